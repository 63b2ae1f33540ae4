"""MatrixSyncLoop with a scripted nio client: limited timelines are back-filled before anything is recorded."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import pytest
from nio import AsyncClient, Event, MessageDirection, RoomMessagesError, RoomMessagesResponse, SyncResponse
from sqlalchemy.exc import DBAPIError

from adapters.matrix import backfill, sync_loop
from adapters.matrix.backoff import Backoff
from adapters.matrix.room_queues import KeyedWorkQueues
from adapters.matrix.state_view import NioTopologyView
from adapters.matrix.sync_loop import AccessTokenRejected, MatrixSyncLoop
from domain.model.messages import Invitation, RoomEvent
from tests.unit.fakes.unit_of_work import FakeStore, FakeUnitOfWork, FakeUnitOfWorkFactory
from tests.unit.matrix.sync_json import BOT, CHAT, Json, joined, message, reply, state, sync

Page = RoomMessagesResponse | RoomMessagesError | Exception


@dataclass
class MessagesCall:
    room_id: str
    start: str | None
    end: str | None
    direction: MessageDirection
    limit: int


@dataclass
class ScriptedClient:
    """The slice of AsyncClient the loop uses; syncs and /messages pages are handed out in order."""

    syncs: list[SyncResponse]
    pages: dict[tuple[str, str], list[Page]] = field(default_factory=dict)  # (room, start) -> answers
    user_id: str = BOT
    sync_calls: list[dict[str, Any]] = field(default_factory=list)
    messages_calls: list[MessagesCall] = field(default_factory=list)
    exhausted: asyncio.Event = field(default_factory=asyncio.Event)

    async def sync(self, **kwargs: Any) -> SyncResponse:
        self.sync_calls.append(kwargs)
        if not self.syncs:
            self.exhausted.set()
            await asyncio.Event().wait()  # a long-poll that never returns
        return self.syncs.pop(0)

    async def room_messages(
        self,
        room_id: str,
        start: str | None = None,
        end: str | None = None,
        direction: MessageDirection = MessageDirection.back,
        limit: int = 10,
    ) -> RoomMessagesResponse | RoomMessagesError:
        self.messages_calls.append(MessagesCall(room_id, start, end, direction, limit))
        answer = self.pages[(room_id, str(start))].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def page(room_id: str, newest_first: list[Json], start: str, end: str | None) -> RoomMessagesResponse:
    chunk: list[Event] = [Event.parse_event(raw) for raw in newest_first]
    return RoomMessagesResponse(room_id=room_id, chunk=chunk, start=start, end=end)


def failure(errcode: str = "M_UNKNOWN") -> RoomMessagesError:
    return RoomMessagesError(message="boom", status_code=errcode, room_id=CHAT)


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_loop, "Backoff", lambda: Backoff(initial=0.001, maximum=0.001))


def make_loop(
    client: ScriptedClient, store: FakeStore, timeline_limit: int = 100, view: NioTopologyView | None = None
) -> MatrixSyncLoop:
    async def handle(_: RoomEvent) -> None:
        return None

    accept: Callable[[Invitation], Awaitable[None]] = lambda _: asyncio.sleep(0)  # noqa: E731
    return MatrixSyncLoop(
        cast(AsyncClient, client),
        FakeUnitOfWorkFactory(store),
        KeyedWorkQueues(handle),
        accept,
        view or NioTopologyView(),
        timeline_limit=timeline_limit,
    )


def inbox_bodies(store: FakeStore) -> list[str]:
    return [entry.message.body for entry in store.inbox.values()]


async def test_a_limited_timeline_is_backfilled_in_order_before_the_timeline(caplog: pytest.LogCaptureFixture) -> None:
    m1, m2, m3, m4, m5 = (message(f"m{i}") for i in range(1, 6))
    client = ScriptedClient(
        syncs=[sync({CHAT: joined(timeline=[m4, m5], limited=True, prev_batch="p1")}, next_batch="s1")],
        pages={
            (CHAT, "p1"): [page(CHAT, [m4, m3, m2], "p1", "p2")],  # m4 is in the timeline too
            (CHAT, "p2"): [page(CHAT, [m1], "p2", "p3")],
            (CHAT, "p3"): [page(CHAT, [], "p3", None)],
        },
    )
    store = FakeStore(sync_token="s0")
    with caplog.at_level(logging.INFO):
        await make_loop(client, store).first_sync()

    assert inbox_bodies(store) == ["m1", "m2", "m3", "m4", "m5"]
    assert store.sync_token == "s1"
    assert [(c.start, c.end, c.direction, c.limit) for c in client.messages_calls] == [
        ("p1", "s0", MessageDirection.back, 100),
        ("p2", "s0", MessageDirection.back, 100),
        ("p3", "s0", MessageDirection.back, 100),
    ]
    (done,) = [r for r in caplog.records if r.getMessage() == "backfill_done"]
    assert (getattr(done, "room_id", None), getattr(done, "count", None)) == (CHAT, 4)


async def test_a_failed_backfill_records_nothing_and_the_same_sync_is_repeated() -> None:
    m1, m2 = message("m1"), message("m2")
    limited = {CHAT: joined(timeline=[m2], limited=True, prev_batch="p1")}
    client = ScriptedClient(
        syncs=[sync(limited, next_batch="s1"), sync(limited, next_batch="s1")],
        pages={(CHAT, "p1"): [failure(), page(CHAT, [m1], "p1", None)]},
    )
    store = FakeStore(sync_token="s0")
    await make_loop(client, store).first_sync()

    assert [call["since"] for call in client.sync_calls] == ["s0", "s0"]
    assert inbox_bodies(store) == ["m1", "m2"]
    assert store.sync_token == "s1"


@pytest.mark.parametrize("error", [aiohttp.ClientConnectionError("reset"), TimeoutError(), OSError("down")])
async def test_a_transport_error_during_backfill_is_retried(error: Exception) -> None:
    m1, m2 = message("m1"), message("m2")
    limited = {CHAT: joined(timeline=[m2], limited=True, prev_batch="p1")}
    client = ScriptedClient(
        syncs=[sync(limited, next_batch="s1"), sync(limited, next_batch="s1")],
        pages={(CHAT, "p1"): [error, page(CHAT, [m1], "p1", None)]},
    )
    store = FakeStore(sync_token="s0")
    await make_loop(client, store).first_sync()
    assert inbox_bodies(store) == ["m1", "m2"]


async def test_a_rejected_access_token_during_backfill_stops_the_loop() -> None:
    client = ScriptedClient(
        syncs=[sync({CHAT: joined(timeline=[message("m")], limited=True, prev_batch="p1")})],
        pages={(CHAT, "p1"): [failure("M_UNKNOWN_TOKEN")]},
    )
    store = FakeStore(sync_token="s0")
    with pytest.raises(AccessTokenRejected):
        await make_loop(client, store).first_sync()
    assert store.sync_token == "s0" and store.inbox == {}


async def test_without_a_stored_token_nothing_is_backfilled_or_replayed() -> None:
    client = ScriptedClient(syncs=[sync({CHAT: joined(timeline=[message("old")], limited=True, prev_batch="p1")})])
    store = FakeStore()
    await make_loop(client, store, timeline_limit=5).first_sync()
    assert client.messages_calls == [] and store.inbox == {}
    assert store.sync_token == "s1"
    assert client.sync_calls[0]["since"] is None and client.sync_calls[0]["full_state"] is True
    assert client.sync_calls[0]["sync_filter"]["room"]["timeline"] == {"limit": 5}
    assert client.sync_calls[0]["sync_filter"]["room"]["state"] == {"lazy_load_members": True}
    # Typing and receipts would wake the long poll for nothing.
    assert client.sync_calls[0]["sync_filter"]["room"]["ephemeral"] == {"types": []}


async def test_a_page_bound_truncates_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(backfill, "MAX_PAGES", 2)
    m1, m2, m3 = message("m1"), message("m2"), message("m3")
    client = ScriptedClient(
        syncs=[sync({CHAT: joined(timeline=[m3], limited=True, prev_batch="p1")})],
        pages={(CHAT, "p1"): [page(CHAT, [m2], "p1", "p2")], (CHAT, "p2"): [page(CHAT, [m1], "p2", "p3")]},
    )
    store = FakeStore(sync_token="s0")
    with caplog.at_level(logging.INFO):
        await make_loop(client, store).first_sync()
    assert inbox_bodies(store) == ["m1", "m2", "m3"]
    assert "backfill_truncated" in [r.getMessage() for r in caplog.records]


async def test_live_syncs_start_from_the_recorded_token_and_backfill_to_it() -> None:
    m1, m2, m3 = message("m1"), message("m2"), message("m3")
    client = ScriptedClient(
        syncs=[
            sync({CHAT: joined(timeline=[m1])}, next_batch="s1"),
            sync({CHAT: joined(timeline=[m3], limited=True, prev_batch="p2")}, next_batch="s2"),
            sync({CHAT: joined(timeline=[m3], limited=True, prev_batch="p2")}, next_batch="s2"),
        ],
        pages={(CHAT, "p2"): [failure("M_LIMIT_EXCEEDED"), page(CHAT, [m2], "p2", None)]},
    )
    store = FakeStore(sync_token="s0")
    loop = make_loop(client, store)
    await loop.first_sync()
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    await asyncio.wait_for(client.exhausted.wait(), 5)
    stop.set()
    await asyncio.wait_for(running, 5)

    assert [call["since"] for call in client.sync_calls] == ["s0", "s1", "s1", "s2"]
    assert [c.end for c in client.messages_calls] == ["s1", "s1"]
    assert inbox_bodies(store) == ["m1", "m2", "m3"]
    assert store.sync_token == "s2"


async def test_the_view_sees_every_response() -> None:
    asked = message("q")
    client = ScriptedClient(syncs=[sync({CHAT: joined(timeline=[asked, reply(asked["event_id"])])})])
    view = NioTopologyView()
    await make_loop(client, FakeStore(), view=view).first_sync()
    (room,) = (await view.observe()).rooms
    assert room.answered == {asked["event_id"]}


async def test_a_limited_timeline_that_starts_at_the_room_creation_needs_no_backfill() -> None:
    # Synapse marks a newly joined room limited even when its whole history is in the timeline.
    timeline = [state("m.room.create", {"creator": BOT}), message("m1")]
    client = ScriptedClient(syncs=[sync({CHAT: joined(timeline=timeline, limited=True, prev_batch="p1")})])
    store = FakeStore(sync_token="s0")
    await make_loop(client, store).first_sync()
    assert client.messages_calls == [] and inbox_bodies(store) == ["m1"]


async def test_a_limited_timeline_whose_gap_starts_at_our_token_needs_no_backfill() -> None:
    client = ScriptedClient(syncs=[sync({CHAT: joined(timeline=[message("m1")], limited=True, prev_batch="s0")})])
    store = FakeStore(sync_token="s0")
    await make_loop(client, store).first_sync()
    assert client.messages_calls == [] and inbox_bodies(store) == ["m1"]


class CutOnce(FakeUnitOfWorkFactory):
    """Units of work whose `cut_at`-th one loses its database connection at commit, as a server restart does."""

    def __init__(self, store: FakeStore, cut_at: int) -> None:
        super().__init__(store)
        self._cut_at = cut_at

    def __call__(self) -> FakeUnitOfWork:
        unit = super().__call__()
        if len(self.made) == self._cut_at:

            async def lost() -> None:
                raise DBAPIError("COMMIT", {}, ConnectionResetError("closed"), connection_invalidated=True)

            unit.commit = lost  # type: ignore[method-assign]
        return unit


async def test_a_database_connection_lost_while_recording_repeats_the_same_sync() -> None:
    m1 = message("m1")
    client = ScriptedClient(
        syncs=[sync({CHAT: joined(timeline=[m1])}, next_batch="s1"), sync({CHAT: joined(timeline=[m1])}, "s1")]
    )
    store = FakeStore(sync_token="s0")

    async def handle(_: RoomEvent) -> None:
        return None

    accept: Callable[[Invitation], Awaitable[None]] = lambda _: asyncio.sleep(0)  # noqa: E731
    # The first unit of work reads the token; the second records the batch, and loses its connection.
    loop = MatrixSyncLoop(
        cast(AsyncClient, client), CutOnce(store, 2), KeyedWorkQueues(handle), accept, NioTopologyView()
    )
    await loop.first_sync()

    assert [call["since"] for call in client.sync_calls] == ["s0", "s0"]
    assert inbox_bodies(store) == ["m1"]
    assert store.sync_token == "s1"
