"""The real reference agent (`platform_agent`), served in-process on a free loopback port."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from platform_agent.app import make_app
from platform_agent.settings import AgentSettings
from tests.servers.loopback import serve


@asynccontextmanager
async def reference_agent(workspace: Path, **settings: Any) -> AsyncIterator[str]:
    """Yields the agent's base URL. No chunk delay unless asked for, so tests stay fast."""
    options: dict[str, Any] = {"workspace_dir": workspace, "chunk_delay": 0.0, **settings}
    async with serve(make_app(AgentSettings(**options))) as url:
        yield url
