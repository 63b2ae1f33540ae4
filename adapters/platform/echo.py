"""The built-in agent: answers every message with itself, deterministically and without a network."""

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from domain.model.agent import (
    AgentEvent,
    AgentFailed,
    AgentRequest,
    Done,
    FileEmitted,
    TextDelta,
)
from domain.model.context import ChatContext
from domain.model.file_names import safe_name
from domain.model.ids import PlatformChatId
from ports.platform import ContextTransferUnsupported, PlatformClient, PlatformError

FAIL_DIRECTIVE = "!!fail"
FAIL_MESSAGE = "echo agent was asked to fail"
HISTORY_DIRECTIVE = "!!history"
EMPTY_HISTORY = "(no history)"
MAX_SLEEP_SECONDS = 30.0
FILE_DIRECTIVE = "!!file"
WRITE_DIRECTIVE = "!!write"
ECHO_PREFIX = "surfaces/echo"
NO_WORKSPACE = "echo agent has no workspace to write to"
_FILE_LINE = re.compile(r"!!file[ \t]+(\S.*?)[ \t]*$")
_WRITE = re.compile(r"!!write[ \t]+(\S+)[ \t]?(.*)", re.DOTALL)
_SLEEP_DIRECTIVE = re.compile(r"!!sleep\s+(\d+(?:\.\d*)?|\.\d+)(?:\s+|$)")
# Split just before each word that follows whitespace: every piece is a word plus its trailing
# whitespace, so joining the pieces gives back the text exactly.
_WORD_BOUNDARY = re.compile(r"(?<=\s)(?=\S)")


class EchoPlatformClient:
    """Echoes each message back as a stream of TextDelta chunks (1-3 words each), then Done.

    Each platform_chat_id keeps an in-memory session of the texts it received, dropped by
    disconnect_chat, exported and imported as a JSON list of those texts. Directives let tests
    drive the other paths:

    - a text exactly ``!!fail`` answers with ``AgentFailed("echo agent was asked to fail")``;
    - a text starting ``!!sleep N`` (seconds, float, capped at 30) waits N seconds, then
      echoes the rest of the text after N;
    - a text exactly ``!!history`` answers with the texts this chat received before, one per
      line, numbered from 1 (``1. first``), newlines inside a text shown as ``\\n``; or
      ``(no history)``. The question itself is not recorded;
    - every line ``!!file <path>`` emits ``FileEmitted(<path>)`` as written (absolute, ``..`` and all:
      the bot, not the agent, must refuse what is unsafe);
    - a text ``!!write <name> <text>`` writes ``<text>`` (UTF-8) to
      ``surfaces/echo/{platform_chat_id}/{name}`` under the workspace root (name sanitised) and
      emits it; without a workspace it answers ``AgentFailed``.

    A request with attachments is answered with the echo followed by one ``received: <workspace_path>``
    line per attachment, in order.
    """

    def __init__(
        self, delay_per_chunk: float = 0.0, context_transfer: bool = True, workspace_dir: Path | None = None
    ) -> None:
        if delay_per_chunk < 0:
            raise ValueError("delay_per_chunk must not be negative")
        self._delay_per_chunk = delay_per_chunk
        self._context_transfer = context_transfer
        self._workspace_dir = workspace_dir
        self._sessions: dict[PlatformChatId, list[str]] = {}

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        if request.text == HISTORY_DIRECTIVE:
            answer = _numbered(self.history(request.platform_chat_id))
        else:
            session = self._sessions.setdefault(request.platform_chat_id, [])
            if request.replaces_last_turn and session:
                session.pop()  # regenerate or edit: this text takes the place of the last one
            session.append(request.text)
            if request.text == FAIL_DIRECTIVE:
                yield AgentFailed(message=FAIL_MESSAGE)
                return
            answer = await self._obey_sleep(request.text)
        try:
            emitted = list(await self._files_to_emit(request))
        except OSError as error:
            yield AgentFailed(message=f"echo agent could not write: {error.strerror or error}")
            return
        except PlatformError as error:
            yield AgentFailed(message=str(error))
            return
        for chunk in _chunks(answer + _received(request)):
            if self._delay_per_chunk:
                await asyncio.sleep(self._delay_per_chunk)
            yield TextDelta(text=chunk)
        for file in emitted:
            yield file
        yield Done()

    async def disconnect_chat(self, chat: ChatContext) -> None:
        self._sessions.pop(chat.platform_chat_id, None)

    async def export_context(self, chat: ChatContext) -> str:
        self._check_transfer(chat)
        return json.dumps(list(self.history(chat.platform_chat_id)), ensure_ascii=False)

    async def import_context(self, chat: ChatContext, payload: str) -> None:
        self._check_transfer(chat)
        self._sessions[chat.platform_chat_id] = _parse_history(payload)

    async def suggest_title(self, chat: ChatContext, question: str, answer: str) -> str | None:
        return None

    async def health(self) -> bool:
        return True

    def history(self, platform_chat_id: PlatformChatId) -> tuple[str, ...]:
        """The texts this chat's session has received, oldest first (empty once disconnected)."""
        return tuple(self._sessions.get(platform_chat_id, ()))

    def _check_transfer(self, chat: ChatContext) -> None:
        if not self._context_transfer:
            raise ContextTransferUnsupported(f"agent {chat.agent_id} cannot save or load context")

    async def _files_to_emit(self, request: AgentRequest) -> list[FileEmitted]:
        """The files this request asks for: `!!write` writes one first; `!!file` lines name them."""
        write = _WRITE.match(request.text)
        if write is not None:
            path = await asyncio.to_thread(self._write, request.platform_chat_id, write.group(1), write.group(2))
            return [FileEmitted(workspace_path=path)]
        return [
            FileEmitted(workspace_path=match.group(1))
            for line in request.text.splitlines()
            if (match := _FILE_LINE.fullmatch(line))
        ]

    def _write(self, chat: PlatformChatId, name: str, text: str) -> str:
        if self._workspace_dir is None:
            raise PlatformError(NO_WORKSPACE)
        relative = f"{ECHO_PREFIX}/{safe_name(chat)}/{safe_name(name)}"
        target = self._workspace_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return relative

    @staticmethod
    async def _obey_sleep(text: str) -> str:
        match = _SLEEP_DIRECTIVE.match(text)
        if match is None:
            return text
        await asyncio.sleep(min(float(match.group(1)), MAX_SLEEP_SECONDS))
        return text[match.end() :]


def _received(request: AgentRequest) -> str:
    lines = [f"received: {attachment.workspace_path}" for attachment in request.attachments]
    return "".join(f"\n{line}" for line in lines) if lines else ""


def _numbered(history: tuple[str, ...]) -> str:
    if not history:
        return EMPTY_HISTORY
    # One line per message, so a multi-line message is shown with a visible \n.
    lines = (text.replace("\n", "\\n") for text in history)
    return "\n".join(f"{number}. {line}" for number, line in enumerate(lines, 1))


def _parse_history(payload: str) -> list[str]:
    try:
        history = json.loads(payload)
    except ValueError as error:
        raise PlatformError(f"echo context is not valid JSON: {error}") from error
    if not isinstance(history, list) or not all(isinstance(text, str) for text in history):
        raise PlatformError("echo context must be a JSON list of message texts")
    return history


def _chunks(text: str) -> Iterable[str]:
    pieces = [piece for piece in _WORD_BOUNDARY.split(text) if piece]
    sizes = itertools.cycle((1, 2, 3))
    start = 0
    while start < len(pieces):
        size = next(sizes)
        yield "".join(pieces[start : start + size])
        start += size


_CONFORMS_TO_PORT: type[PlatformClient] = EchoPlatformClient
