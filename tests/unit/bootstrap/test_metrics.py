"""BotMetrics: its own registry, the counting wrapper, rooms by state, and /metrics serving them."""

import asyncio
import socket
import urllib.request

from prometheus_client import generate_latest

from bootstrap.http_endpoint import HealthEndpoint
from bootstrap.metrics import BotMetrics
from domain.model.context import ChatContext
from domain.model.ids import AgentId, EventId, RoomId, UserId
from domain.model.messages import IncomingText, RoomEvent
from domain.model.room import ChatRoom, RoomStatus
from tests.unit.fakes.unit_of_work import FakeUnitOfWorkFactory


def _sample(metrics: BotMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def _room(number: int, status: RoomStatus) -> ChatRoom:
    return ChatRoom(
        room_id=RoomId(f"!r{number}:hs"),
        owner=UserId("@u:hs"),
        space_id=RoomId("!space:hs"),
        chat_number=number,
        name=f"Chat {number}",
        context=ChatContext.fresh(AgentId("echo")),
        status=status,
    )


def test_two_instances_do_not_collide() -> None:
    BotMetrics()
    BotMetrics()  # a second container in the same process must not raise "Duplicated timeseries"


async def test_counting_wrapper_counts_and_delegates() -> None:
    metrics = BotMetrics()
    handled: list[RoomEvent] = []

    async def handler(event: RoomEvent) -> None:
        handled.append(event)

    message = IncomingText(room_id=RoomId("!r:hs"), event_id=EventId("$e"), sender=UserId("@u:hs"), body="hi")
    await metrics.counting(handler)(message)
    assert handled == [message]
    assert _sample(metrics, "surfaces_messages_received_total", kind="text") == 1


def test_answers_feed_the_counter_and_histogram() -> None:
    metrics = BotMetrics()
    metrics.first_delta("echo", 0.2)
    metrics.answered("echo", 1.5, "done")
    assert _sample(metrics, "surfaces_answers_total", agent="echo", outcome="done") == 1
    assert _sample(metrics, "surfaces_agent_first_delta_seconds_count", agent="echo") == 1
    assert _sample(metrics, "surfaces_agent_answer_seconds_sum", agent="echo") == 1.5


async def test_rooms_are_recounted_by_state() -> None:
    metrics = BotMetrics()
    uow = FakeUnitOfWorkFactory()
    for number, status in enumerate([RoomStatus.ACTIVE, RoomStatus.ACTIVE, RoomStatus.ARCHIVED], 1):
        room = _room(number, status)
        uow.store.rooms[room.room_id] = room
    await metrics.rooms_refresher(uow)()
    assert _sample(metrics, "surfaces_rooms", state="active") == 2
    assert _sample(metrics, "surfaces_rooms", state="archived") == 1


async def test_metrics_endpoint_serves_the_bot_registry_after_refreshing() -> None:
    metrics = BotMetrics()
    metrics.sync_error("sync_failed")
    refreshed: list[bool] = []

    async def refresh() -> None:
        refreshed.append(True)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = HealthEndpoint("127.0.0.1", port, metrics.registry, refresh)
    await endpoint.start()
    try:
        body = await _get(f"http://127.0.0.1:{port}/metrics")
    finally:
        await endpoint.stop()
    assert refreshed == [True]
    assert 'surfaces_sync_errors_total{kind="sync_failed"} 1.0' in body
    assert "surfaces_rooms" in body and "process_" in generate_latest(metrics.registry).decode()


async def _get(url: str) -> str:
    def fetch() -> str:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    return await asyncio.to_thread(fetch)
