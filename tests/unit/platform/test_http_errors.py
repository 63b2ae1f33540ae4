"""How the http adapter maps a platform's failures: unreachable, busy or failing → PlatformError (the caller
retries); refusals, `error` events and cut-off answers → AgentFailed (shown to the user)."""

import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from adapters.platform.http import HttpPlatformClient, HttpTimeouts
from adapters.platform.sse_events import CUT_OFF
from domain.model.agent import AgentEvent, AgentFailed, AgentRequest, Done, TextDelta
from domain.model.context import ChatContext
from domain.model.ids import AgentId, PlatformChatId, UserId
from ports.platform import ContextTransferUnsupported, PlatformError
from tests.servers.loopback import serve
from tests.unit.platform.misbehaving_agent import PEERS, make_misbehaving_app

AGENT = AgentId("reference")


def _chat(scenario: str) -> ChatContext:
    return ChatContext(agent_id=AGENT, platform_chat_id=PlatformChatId(scenario))


async def _ask(client: HttpPlatformClient, scenario: str) -> list[AgentEvent]:
    request = AgentRequest(
        agent_id=AGENT, platform_chat_id=PlatformChatId(scenario), text="hi", sender=UserId("@a:example.org")
    )
    return [event async for event in client.stream(request)]


@pytest.fixture
def app() -> web.Application:
    return make_misbehaving_app()


@pytest.fixture
async def client(app: web.Application) -> AsyncIterator[HttpPlatformClient]:
    async with serve(app) as url:
        adapter = HttpPlatformClient(url, "reference", HttpTimeouts(read=0.5))
        yield adapter
        await adapter.aclose()


@pytest.fixture
def nowhere() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_a_platform_that_is_down_is_a_platform_error_everywhere_but_health(nowhere: str) -> None:
    client = HttpPlatformClient(nowhere, "reference")
    with pytest.raises(PlatformError, match="agent reference unreachable"):
        await _ask(client, "pc-1")
    for call in (client.disconnect_chat(_chat("pc-1")), client.export_context(_chat("pc-1"))):
        with pytest.raises(PlatformError, match="unreachable"):
            await call
    assert await client.health() is False
    assert await client.suggest_title(_chat("pc-1"), "q", "a") is None
    await client.aclose()


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("http-500", "answered 500: database on fire"),
        ("http-503-plain", "answered 503: 503 Service Unavailable"),
        ("http-429", "answered 429: slow down"),
        ("retryable-error", "failed, retryable: model reloading"),
        ("dropped", "unreachable"),
        ("stalled", r"timed out \(ReadTimeout\)"),
    ],
)
async def test_busy_failing_or_vanishing_platforms_raise_platform_error(
    client: HttpPlatformClient, scenario: str, message: str
) -> None:
    with pytest.raises(PlatformError, match=message):
        await _ask(client, scenario)


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("http-404", "no agent called reference here"),
        ("http-422", "attachment path must be relative"),
        ("final-error", "content refused"),
        ("not-sse", "the agent answered 200 without an event stream"),
        ("malformed", "the agent sent a malformed delta event"),
    ],
)
async def test_refusals_and_final_errors_end_in_agent_failed(
    client: HttpPlatformClient, scenario: str, message: str
) -> None:
    assert await _ask(client, scenario) == [AgentFailed(message=message)]


async def test_an_answer_that_ends_without_done_was_cut_off(client: HttpPlatformClient) -> None:
    assert await _ask(client, "cut-off") == [TextDelta(text="Once upon"), AgentFailed(message=CUT_OFF)]
    assert CUT_OFF == "the agent's answer was cut off"


async def test_comments_unknown_events_and_anything_after_done_are_ignored(client: HttpPlatformClient) -> None:
    assert await _ask(client, "tolerant") == [TextDelta(text="fine"), Done()]


async def test_connect_timeout_is_a_platform_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("connect timed out", request=request)

    client = HttpPlatformClient("http://agent.invalid", "reference", transport=httpx.MockTransport(refuse))
    with pytest.raises(PlatformError, match=r"agent reference timed out \(ConnectTimeout\)"):
        await _ask(client, "pc-1")
    await client.aclose()


async def test_context_calls_map_501_to_unsupported_and_failures_to_platform_error(client: HttpPlatformClient) -> None:
    with pytest.raises(ContextTransferUnsupported, match="agent reference cannot save or load context"):
        await client.export_context(_chat("http-501"))
    with pytest.raises(ContextTransferUnsupported):
        await client.import_context(_chat("http-501"), "{}")
    with pytest.raises(PlatformError, match="answered 422: attachment path must be relative"):
        await client.import_context(_chat("http-422"), "{}")
    with pytest.raises(PlatformError, match="answered 500"):
        await client.export_context(_chat("http-500"))


async def test_disconnect_tolerates_an_unknown_chat_but_not_a_failing_platform(client: HttpPlatformClient) -> None:
    await client.disconnect_chat(_chat("http-404"))
    with pytest.raises(PlatformError, match="answered 500"):
        await client.disconnect_chat(_chat("http-500"))


async def test_no_title_and_unhealthy_when_the_platform_says_so(client: HttpPlatformClient) -> None:
    assert await client.suggest_title(_chat("http-404"), "q", "a") is None
    assert await client.suggest_title(_chat("http-500"), "q", "a") is None
    assert await client.health() is False


async def test_one_connection_serves_message_after_message(client: HttpPlatformClient, app: web.Application) -> None:
    for _ in range(3):
        assert await _ask(client, "ok") == [TextDelta(text="ok"), Done()]
    peers = app[PEERS]
    assert len(set(peers)) == 1


async def test_a_platform_that_keeps_the_response_open_after_done_does_not_hold_the_answer(
    client: HttpPlatformClient,
) -> None:
    started = time.perf_counter()
    assert await _ask(client, "done-then-stall") == [Done()]
    assert time.perf_counter() - started < 2.0
