import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from bootstrap.logging import configure_logging

SECRET = "syt_c2VjcmV0_abcdefghij"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in ("nio", "sqlalchemy.engine", "aiohttp.access")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, noisy_level in noisy.items():
        logging.getLogger(name).setLevel(noisy_level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    err = capsys.readouterr().err
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_lines_have_event_level_timestamp_and_logger(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json")
    structlog.get_logger("surfaces.test").info("reply_sent", n=3)
    [line] = _lines(capsys)
    assert line["event"] == "reply_sent"
    assert line["level"] == "info"
    assert line["logger"] == "surfaces.test"
    assert line["n"] == 3
    assert line["timestamp"].endswith("Z")


def test_secret_keys_and_known_secrets_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", secrets=[SECRET])
    structlog.get_logger("t").info("login", access_token="abc", detail={"password": "pw"})
    logging.getLogger("nio.client").warning("token is %s", SECRET)
    err = capsys.readouterr().err
    assert SECRET not in err
    assert '"abc"' not in err
    assert '"pw"' not in err
    structured, stdlib = (json.loads(line) for line in err.splitlines())
    assert structured["access_token"] == "[redacted]"
    assert structured["detail"] == {"password": "[redacted]"}
    assert stdlib["event"] == "token is [redacted]"


def test_access_token_query_parameter_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    url = "https://hs.example/_matrix/client/v3/sync?since=s1&access_token=zzz999&timeout=30"
    logging.getLogger("nio.http").warning("GET %s", url)
    [line] = _lines(capsys)
    assert "zzz999" not in line["event"]
    assert "access_token=[redacted]&timeout=30" in line["event"]


def test_secret_inside_an_exception_traceback_is_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", secrets=[SECRET])
    try:
        raise RuntimeError(f"bad token {SECRET}")
    except RuntimeError:
        logging.getLogger("surfaces").exception("login_failed")
    [line] = _lines(capsys)
    assert "[redacted]" in line["exception"]
    assert SECRET not in json.dumps(line)


def test_bound_contextvars_appear_on_both_kinds_of_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json")
    structlog.contextvars.bind_contextvars(room_id="!r:hs", event_id="$e")
    structlog.get_logger("t").info("message_received")
    logging.getLogger("domain.x").info("handled")
    for line in _lines(capsys):
        assert line["room_id"] == "!r:hs"
        assert line["event_id"] == "$e"


def test_stdlib_extra_fields_become_keys(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    logging.getLogger("domain.services").info("chat_created", extra={"chat_number": 2})
    [line] = _lines(capsys)
    assert line["event"] == "chat_created"
    assert line["chat_number"] == 2
    assert line["logger"] == "domain.services"


def test_level_and_noisy_loggers_are_filtered(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", level="info")
    structlog.get_logger("t").debug("hidden")
    logging.getLogger("nio.rooms").info("hidden too")
    logging.getLogger("nio.rooms").warning("shown")
    assert [line["event"] for line in _lines(capsys)] == ["shown"]


def test_reconfiguring_replaces_the_handler(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    configure_logging("console", secrets=[SECRET])
    structlog.get_logger("t").info("hello", value=SECRET)
    err = capsys.readouterr().err
    assert err.count("hello") == 1
    assert "[redacted]" in err
    assert SECRET not in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(err)
