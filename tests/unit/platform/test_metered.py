"""MeteredPlatformClient: the answer stream is unchanged; first delta and the end are reported once."""

import inspect
from collections.abc import AsyncIterator

import pytest

from adapters.platform.echo import EchoPlatformClient
from adapters.platform.metered import MeteredPlatformClient
from domain.model.agent import AgentEvent, AgentFailed, AgentRequest, Done, TextDelta
from domain.model.ids import AgentId, PlatformChatId, UserId
from ports.platform import PlatformClient, PlatformError

REQUEST = AgentRequest(
    agent_id=AgentId("echo"), platform_chat_id=PlatformChatId("pc-1"), text="a b c d e f g", sender=UserId("@u:hs")
)


class FakeObserver:
    def __init__(self) -> None:
        self.first: list[tuple[str, float]] = []
        self.ends: list[tuple[str, float, str]] = []

    def first_delta(self, agent_id: str, seconds: float) -> None:
        self.first.append((agent_id, seconds))

    def answered(self, agent_id: str, seconds: float, outcome: str) -> None:
        self.ends.append((agent_id, seconds, outcome))


class ScriptedClient(EchoPlatformClient):
    def __init__(self, events: list[AgentEvent], error: PlatformError | None = None) -> None:
        super().__init__()
        self._events, self._error = events, error

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        for event in self._events:
            yield event
        if self._error is not None:
            raise self._error


class Tick:
    """A clock that advances one second per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


async def test_a_done_answer_reports_first_delta_and_end_once() -> None:
    observer = FakeObserver()
    client = MeteredPlatformClient(EchoPlatformClient(), observer, Tick())
    events = [event async for event in client.stream(REQUEST)]
    assert events == [event async for event in EchoPlatformClient().stream(REQUEST)]
    assert observer.first == [("echo", 1.0)]
    assert [(agent, outcome) for agent, _, outcome in observer.ends] == [("echo", "done")]
    assert observer.ends[0][1] > observer.first[0][1]


async def test_an_error_event_is_a_failed_answer() -> None:
    observer = FakeObserver()
    inner = ScriptedClient([TextDelta(text="par"), AgentFailed(message="boom")])
    assert [e async for e in MeteredPlatformClient(inner, observer).stream(REQUEST)][-1] == AgentFailed(message="boom")
    assert [outcome for *_, outcome in observer.ends] == ["failed"]


async def test_an_unreachable_platform_is_reported_and_still_raises() -> None:
    observer = FakeObserver()
    inner = ScriptedClient([], PlatformError("down"))
    with pytest.raises(PlatformError):
        _ = [e async for e in MeteredPlatformClient(inner, observer).stream(REQUEST)]
    assert observer.first == []
    assert [outcome for *_, outcome in observer.ends] == ["unreachable"]


async def test_a_consumer_that_stops_at_done_still_counts_done() -> None:
    observer = FakeObserver()
    inner = ScriptedClient([TextDelta(text="x"), Done(), TextDelta(text="ignored")])
    stream = MeteredPlatformClient(inner, observer).stream(REQUEST)
    async for event in stream:
        if isinstance(event, Done):
            break
    await stream.aclose()  # type: ignore[attr-defined]
    assert [outcome for *_, outcome in observer.ends] == ["done"]


def test_every_port_method_is_passed_through() -> None:
    port_methods = {name for name, _ in inspect.getmembers(PlatformClient) if not name.startswith("_")}
    assert port_methods <= set(dir(MeteredPlatformClient))
