"""Closing an agent's stream as soon as its reader stops reading."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from domain.model.agent import AgentEvent


@asynccontextmanager
async def closing(events: AsyncIterator[AgentEvent]) -> AsyncIterator[AsyncIterator[AgentEvent]]:
    """Like contextlib.aclosing, for the port's plain AsyncIterator: a stopped answer closes the adapter's
    generator at once (ending its request and letting it keep what it streamed), not whenever it is collected."""
    try:
        yield events
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
