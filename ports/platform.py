from collections.abc import AsyncIterator
from typing import Protocol

from domain.model.agent import AgentEvent, AgentRequest
from domain.model.context import ChatContext


class PlatformError(Exception):
    """The agent platform could not be reached or refused the request."""


class ContextTransferUnsupported(PlatformError):
    """This agent cannot export or import a conversation's context."""


class PlatformClient(Protocol):
    """Talks to the agent platform: one request answers with a stream of agent events ending in Done or AgentFailed."""

    def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]: ...

    async def disconnect_chat(self, chat: ChatContext) -> None:
        """Ends the upstream conversation; its id is never used again."""
        ...

    async def export_context(self, chat: ChatContext) -> str:
        """The conversation's context as an opaque string; raises ContextTransferUnsupported when the agent cannot."""
        ...

    async def import_context(self, chat: ChatContext, payload: str) -> None:
        """Seeds a fresh conversation from an exported context; raises ContextTransferUnsupported when it cannot."""
        ...

    async def suggest_title(self, chat: ChatContext, question: str, answer: str) -> str | None:
        """A short title for a conversation, or None when the agent does not offer one."""
        ...

    async def health(self) -> bool: ...
