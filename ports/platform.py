from collections.abc import AsyncIterator
from typing import Protocol

from domain.model.agent import AgentEvent, AgentRequest
from domain.model.ids import PlatformChatId


class PlatformError(Exception):
    """The agent platform could not be reached or refused the request."""


class PlatformClient(Protocol):
    """Talks to the agent platform: one request answers with a stream of agent events ending in Done or AgentFailed."""

    def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]: ...

    async def disconnect_chat(self, platform_chat_id: PlatformChatId) -> None: ...

    async def health(self) -> bool: ...
