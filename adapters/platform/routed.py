"""One PlatformClient over many: each call goes to the adapter of the agent it names."""

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Protocol, runtime_checkable

from domain.model.agent import AgentEvent, AgentRequest
from domain.model.context import ChatContext
from domain.model.ids import AgentId
from domain.services.agent_stream import closing
from ports.platform import PlatformClient, PlatformError


class RoutedPlatformClient:
    """Delegates every call to the client registered for the request's or chat's agent id.

    An agent id with no client raises PlatformError; healthy only when every client is.
    """

    def __init__(self, clients: Mapping[AgentId, PlatformClient]) -> None:
        self._clients = dict(clients)

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        async with closing(self._client(request.agent_id).stream(request)) as events:
            async for event in events:
                yield event

    async def disconnect_chat(self, chat: ChatContext) -> None:
        await self._client(chat.agent_id).disconnect_chat(chat)

    async def export_context(self, chat: ChatContext) -> str:
        return await self._client(chat.agent_id).export_context(chat)

    async def import_context(self, chat: ChatContext, payload: str) -> None:
        await self._client(chat.agent_id).import_context(chat, payload)

    async def suggest_title(self, chat: ChatContext, question: str, answer: str) -> str | None:
        return await self._client(chat.agent_id).suggest_title(chat, question, answer)

    async def health(self) -> bool:
        # A client whose health check itself fails counts as unhealthy rather than failing the probe.
        results = await asyncio.gather(*(c.health() for c in self._clients.values()), return_exceptions=True)
        return all(result is True for result in results)

    async def aclose(self) -> None:
        """Closes the clients that hold connections (the http and openai adapters); call once at shutdown."""
        for client in self._clients.values():
            if isinstance(client, _Closable):
                await client.aclose()

    def _client(self, agent_id: AgentId) -> PlatformClient:
        client = self._clients.get(agent_id)
        if client is None:
            raise PlatformError(f"unknown agent {agent_id}")
        return client


@runtime_checkable
class _Closable(Protocol):
    async def aclose(self) -> None: ...


_CONFORMS_TO_PORT: type[PlatformClient] = RoutedPlatformClient
