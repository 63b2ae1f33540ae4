import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.servers.reference_agent import reference_agent


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    root.mkdir()
    return root


@pytest.fixture
async def agent(workspace: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client pointed at a fresh reference agent (echo mode) on a free loopback port."""
    async with reference_agent(workspace) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
