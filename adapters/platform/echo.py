"""The built-in agent: answers every message with itself, deterministically and without a network."""

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Iterable

from domain.model.agent import (
    AgentEvent,
    AgentFailed,
    AgentRequest,
    Done,
    FileEmitted,
    TextDelta,
)
from domain.model.ids import PlatformChatId
from ports.platform import PlatformClient

FAIL_DIRECTIVE = "!!fail"
FAIL_MESSAGE = "echo agent was asked to fail"
MAX_SLEEP_SECONDS = 30.0
_SLEEP_DIRECTIVE = re.compile(r"!!sleep\s+(\d+(?:\.\d*)?|\.\d+)(?:\s+|$)")
# Split just before each word that follows whitespace: every piece is a word plus its trailing
# whitespace, so joining the pieces gives back the text exactly.
_WORD_BOUNDARY = re.compile(r"(?<=\s)(?=\S)")


class EchoPlatformClient:
    """Echoes each message back as a stream of TextDelta chunks (1-3 words each), then Done.

    Each platform_chat_id keeps an in-memory session of the texts it received, dropped by
    disconnect_chat. Directives let tests drive the failure paths:

    - a text exactly ``!!fail`` answers with ``AgentFailed("echo agent was asked to fail")``;
    - a text starting ``!!sleep N`` (seconds, float, capped at 30) waits N seconds, then
      echoes the rest of the text after N.
    """

    def __init__(self, delay_per_chunk: float = 0.0) -> None:
        if delay_per_chunk < 0:
            raise ValueError("delay_per_chunk must not be negative")
        self._delay_per_chunk = delay_per_chunk
        self._sessions: dict[PlatformChatId, list[str]] = {}

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        self._sessions.setdefault(request.platform_chat_id, []).append(request.text)
        if request.text == FAIL_DIRECTIVE:
            yield AgentFailed(message=FAIL_MESSAGE)
            return
        answer = await self._obey_sleep(request.text)
        for chunk in _chunks(answer):
            if self._delay_per_chunk:
                await asyncio.sleep(self._delay_per_chunk)
            yield TextDelta(text=chunk)
        for emitted in self._files_to_emit(request):
            yield emitted
        yield Done()

    async def disconnect_chat(self, platform_chat_id: PlatformChatId) -> None:
        self._sessions.pop(platform_chat_id, None)

    async def health(self) -> bool:
        return True

    def history(self, platform_chat_id: PlatformChatId) -> tuple[str, ...]:
        """The texts this chat's session has received, oldest first (empty once disconnected)."""
        return tuple(self._sessions.get(platform_chat_id, ()))

    def _files_to_emit(self, request: AgentRequest) -> Iterable[FileEmitted]:
        """Hook for file emission (a later issue): files the echo agent writes for this request."""
        return ()

    @staticmethod
    async def _obey_sleep(text: str) -> str:
        match = _SLEEP_DIRECTIVE.match(text)
        if match is None:
            return text
        await asyncio.sleep(min(float(match.group(1)), MAX_SLEEP_SECONDS))
        return text[match.end() :]


def _chunks(text: str) -> Iterable[str]:
    pieces = [piece for piece in _WORD_BOUNDARY.split(text) if piece]
    sizes = itertools.cycle((1, 2, 3))
    start = 0
    while start < len(pieces):
        size = next(sizes)
        yield "".join(pieces[start : start + size])
        start += size


_CONFORMS_TO_PORT: type[PlatformClient] = EchoPlatformClient
