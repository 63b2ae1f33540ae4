"""First-delta and full-answer latency through the platform adapters on loopback.

    uv run python scripts/platform_latency.py [--messages 200] [--chunk-delay 0] [--url http://127.0.0.1:8090]

`http`: HttpPlatformClient → the reference agent (in-process on a free port, or `--url` for a running one).
`openai`: OpenAIPlatformClient → the local OpenAI-compatible test server, transcripts in a fresh SQLite file.
Each message goes to its own chat after a warm-up, sequentially, so the figures are per-request latency.
"""

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from adapters.platform.http import HttpPlatformClient
from adapters.platform.openai import ChatModelOptions, OpenAIPlatformClient
from domain.model.agent import AgentRequest, Done, TextDelta
from domain.model.context import ChatContext
from domain.model.ids import AgentId, UserId
from ports.platform import PlatformClient
from tests.servers.loopback import serve
from tests.servers.openai_compatible import make_openai_app
from tests.servers.reference_agent import reference_agent

TEXT = "The quick brown fox jumps over the lazy dog " * 5


async def _one(client: PlatformClient, agent: AgentId) -> tuple[float, float]:
    chat = ChatContext.fresh(agent)
    request = AgentRequest(agent_id=agent, platform_chat_id=chat.platform_chat_id, text=TEXT, sender=UserId("@b:x"))
    started = time.perf_counter()
    first = None
    async for event in client.stream(request):
        if isinstance(event, TextDelta) and first is None:
            first = time.perf_counter() - started
        if isinstance(event, Done):
            return first or 0.0, time.perf_counter() - started
    raise RuntimeError(f"no Done from {agent}")


async def _measure(name: str, client: PlatformClient, agent: AgentId, messages: int) -> None:
    for _ in range(5):
        await _one(client, agent)
    samples = [await _one(client, agent) for _ in range(messages)]
    for label, values in (("first delta", [s[0] for s in samples]), ("done", [s[1] for s in samples])):
        ms = sorted(v * 1000 for v in values)
        p95 = ms[int(len(ms) * 0.95) - 1]
        print(f"{name:7} {label:11} p50 {statistics.median(ms):7.2f} ms  p95 {p95:7.2f} ms  max {ms[-1]:7.2f} ms")


@asynccontextmanager
async def _agent_url(url: str | None, workspace: Path, chunk_delay: float) -> AsyncIterator[str]:
    if url is not None:
        yield url
        return
    async with reference_agent(workspace, chunk_delay=chunk_delay) as served:
        yield served


async def main(options: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        async with _agent_url(options.url, root, options.chunk_delay) as url:
            http = HttpPlatformClient(url, "reference")
            await _measure("http", http, AgentId("reference"), options.messages)
            await http.aclose()
        database = f"sqlite+aiosqlite:///{root / 'bench.db'}"
        await upgrade_database(database)
        engine = make_engine(database)
        async with serve(make_openai_app()) as model:
            uow = SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))
            openai = OpenAIPlatformClient(uow, ChatModelOptions(model="test-model"), f"{model}/v1", None)
            await _measure("openai", openai, AgentId("gpt"), options.messages)
            await openai.aclose()
        await engine.dispose()


if __name__ == "__main__":
    # The agent's per-request logs would drown the figures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="the reference agent's AGENT_CHUNK_DELAY")
    parser.add_argument("--url", default=None, help="a running reference agent instead of an in-process one")
    asyncio.run(main(parser.parse_args()))
