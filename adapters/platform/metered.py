"""A PlatformClient that times every answer for an observer (metrics); everything else passes straight through."""

import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from domain.model.agent import AgentEvent, AgentFailed, AgentRequest, Done, TextDelta
from domain.model.context import ChatContext
from domain.services.agent_stream import closing
from ports.platform import PlatformClient, PlatformError


class AnswerObserver(Protocol):
    """Told how long agents take; must be quick and never raise (it runs inside the answer stream)."""

    def first_delta(self, agent_id: str, seconds: float) -> None: ...

    def answered(self, agent_id: str, seconds: float, outcome: str) -> None:
        """`outcome`: done, failed (an error event), unreachable (PlatformError), or abandoned (stopped early)."""
        ...


class MeteredPlatformClient:
    """Wraps `inner`; the answer stream is unchanged, its first delta and its end are reported to `observer`."""

    def __init__(
        self, inner: PlatformClient, observer: AnswerObserver, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._inner = inner
        self._observer = observer
        self._clock = clock

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        agent, started = str(request.agent_id), self._clock()
        outcome, waiting_first = "abandoned", True
        try:
            async with closing(self._inner.stream(request)) as events:
                async for event in events:
                    if waiting_first and isinstance(event, TextDelta):
                        waiting_first = False
                        self._observer.first_delta(agent, self._clock() - started)
                    if isinstance(event, Done | AgentFailed):
                        outcome = "done" if isinstance(event, Done) else "failed"
                    yield event
        except PlatformError:
            outcome = "unreachable"
            raise
        finally:
            self._observer.answered(agent, self._clock() - started, outcome)

    async def disconnect_chat(self, chat: ChatContext) -> None:
        await self._inner.disconnect_chat(chat)

    async def export_context(self, chat: ChatContext) -> str:
        return await self._inner.export_context(chat)

    async def import_context(self, chat: ChatContext, payload: str) -> None:
        await self._inner.import_context(chat, payload)

    async def suggest_title(self, chat: ChatContext, question: str, answer: str) -> str | None:
        return await self._inner.suggest_title(chat, question, answer)

    async def health(self) -> bool:
        return await self._inner.health()
