"""One log pipeline for structlog and stdlib loggers (nio, SQLAlchemy, our domain), with secrets redacted."""

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["json", "console"]

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(r"token|password|secret|api_key|authorization", re.IGNORECASE)
# Some nio versions log request URLs carrying the token as a query parameter.
_SECRET_IN_TEXT = re.compile(r"(access_token=)[^&\s\"'<>]+|(Bearer\s+)[\w.~+/=-]+", re.IGNORECASE)
_NOISY_LOGGERS = ("nio", "sqlalchemy.engine", "aiohttp.access", "alembic.runtime.plugins")
_HANDLER_NAME = "surfaces"


class _Redactor:
    """Processor: hides values of secret-sounding keys and every known secret, wherever it appears."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is hidden whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        return {key: self._value(key, value) for key, value in event_dict.items()}

    def text(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _SECRET_IN_TEXT.sub(lambda m: (m.group(1) or m.group(2)) + REDACTED, text)

    def _value(self, key: object, value: Any) -> Any:
        if isinstance(key, str) and _SECRET_KEY.search(key):
            return REDACTED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self._value(k, v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._value(None, v) for v in value]
        return value


def _renderer(fmt: LogFormat, redactor: _Redactor) -> Processor:
    inner: Processor
    if fmt == "json":
        inner = structlog.processors.JSONRenderer()
    else:
        # Tracebacks arrive pre-formatted (so they can be redacted); plain_traceback says so.
        inner = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )

    def render(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> str:
        # Second pass over the rendered line catches secrets inside reprs of arbitrary objects.
        return redactor.text(str(inner(logger, method_name, event_dict)))

    return render


def configure_logging(fmt: LogFormat, level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Route structlog and stdlib logging to stderr as JSON or console lines; safe to call again."""
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    redactor = _Redactor(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # A cached logger would keep the chain it first saw, defeating a later reconfiguration
        # (and structlog.testing.capture_logs in tests).
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redactor,
                _renderer(fmt, redactor),
            ],
        )
    )
    root = logging.getLogger()
    # Only our own handler is replaced: others (pytest's caplog, an operator's) are left alone.
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    for name in _NOISY_LOGGERS:
        # Propagated records skip the root's level check, so the quiet level must not undercut it.
        logging.getLogger(name).setLevel(max(logging.WARNING, numeric_level))
