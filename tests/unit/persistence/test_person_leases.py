"""Per-person leases on a real PostgreSQL (appservice mode): taken once, lapsing, fenced by generation, and the
inbox refusing a "done" from a replica that no longer holds the lease."""

import asyncio
from collections.abc import Collection

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import make_session_factory
from adapters.persistence.fenced_inbox import FencedInboxFactory, LeaseLost, Ticket, WorkTickets
from adapters.persistence.lease_notifications import PostgresInboxNotifications
from adapters.persistence.leases import PostgresPersonLeases
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from domain.model.controls import Redaction
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText
from ports.inbox import InboxItem

ALICE, BOB = "@alice:example.org", "@bob:example.org"
# Short enough to watch a lease lapse in a test, long enough that a busy machine does not lapse it by accident.
TTL_S = 1.0


def message(event_id: str, sender: str = ALICE, timestamp_ms: int = 1_000) -> IncomingText:
    return IncomingText(
        event_id=EventId(event_id),
        room_id=RoomId("!chat:example.org"),
        sender=UserId(sender),
        body=f"question {event_id}",
        timestamp_ms=timestamp_ms,
    )


def replica(engine: AsyncEngine, name: str, ttl_s: float = TTL_S) -> PostgresPersonLeases:
    return PostgresPersonLeases(engine, name, ttl_s)


async def pending_of(leases: PostgresPersonLeases, person: str, known: Collection[str] = ()) -> list[InboxItem]:
    """The person's undone messages as the dispatch reads them (`waiting_of`, without the invitations)."""
    _, pending = await leases.waiting_of(person, known)
    return pending


async def record(engine: AsyncEngine, *messages: IncomingText) -> None:
    async with SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))() as uow:
        for one in messages:
            await uow.inbox.record(one)
        await uow.commit()


async def test_a_live_lease_is_held_by_one_replica_and_taken_over_only_after_it_lapses(engine: AsyncEngine) -> None:
    a, b = replica(engine, "a"), replica(engine, "b")
    assert await a.acquire(ALICE) == 1
    assert await b.acquire(ALICE) is None
    await asyncio.sleep(TTL_S + 0.3)  # a stops renewing: it died
    assert await b.acquire(ALICE) == 2
    assert await a.renew() == {}  # a's lease is gone; renewing does not bring it back
    assert await b.renew() == {ALICE: 2}


async def test_a_released_lease_is_taken_at_once_with_a_higher_generation(engine: AsyncEngine) -> None:
    a, b = replica(engine, "a", ttl_s=60), replica(engine, "b", ttl_s=60)
    assert await a.acquire(ALICE) == 1
    await a.release(ALICE, 1)
    assert await b.acquire(ALICE) == 2
    await a.release(ALICE, 1)  # a stale release changes nothing
    assert await a.acquire(ALICE) is None


async def test_a_restarted_replica_with_the_same_id_takes_its_lease_back_under_a_new_generation(
    engine: AsyncEngine,
) -> None:
    assert await replica(engine, "a", ttl_s=60).acquire(ALICE) == 1
    assert await replica(engine, "a", ttl_s=60).acquire(ALICE) == 2


async def test_claimable_names_people_with_waiting_messages_and_no_live_lease_of_another(engine: AsyncEngine) -> None:
    await record(engine, message("$a1"), message("$b1", BOB))
    a, b = replica(engine, "a", ttl_s=60), replica(engine, "b", ttl_s=60)
    assert sorted(await a.claimable(10)) == [ALICE, BOB]
    await b.acquire(BOB)
    assert await a.claimable(10) == [ALICE]
    assert sorted(await b.claimable(10)) == [ALICE, BOB]  # its own lease: it may have missed a notification


async def test_pending_of_returns_one_persons_undone_messages_in_arrival_order_not_by_timestamp(
    engine: AsyncEngine,
) -> None:
    # Sent at the same moment, messages can carry timestamps in another order than the room shows them; the
    # homeserver pushes them in the room's order, so arrival is the order to answer in.
    fenced = SqlAlchemyUnitOfWorkFactory(make_session_factory(engine), FencedInboxFactory(WorkTickets("a")))
    for one in (message("$first", timestamp_ms=300), message("$second", timestamp_ms=100), message("$b", BOB)):
        async with fenced() as uow:  # one transaction each, as the homeserver sends them
            await uow.inbox.record(one)
            await uow.commit()
    assert [m.event_id for m in await pending_of(replica(engine, "a"), ALICE)] == ["$first", "$second"]
    assert [m.event_id for m in await pending_of(replica(engine, "a"), ALICE, {"$first"})] == ["$second"]


async def test_done_is_kept_only_under_the_lease_the_message_was_handed_out_with(engine: AsyncEngine) -> None:
    await record(engine, message("$q1"), message("$q2"))
    a, b = replica(engine, "a"), replica(engine, "b")
    tickets = WorkTickets("a")
    fenced = SqlAlchemyUnitOfWorkFactory(make_session_factory(engine), FencedInboxFactory(tickets))
    generation = await a.acquire(ALICE)
    assert generation is not None
    for event_id in ("$q1", "$q2"):
        tickets.issue(EventId(event_id), Ticket(person=ALICE, generation=generation))
    async with fenced() as uow:
        await uow.inbox.mark_done(EventId("$q1"))
        await uow.commit()
    await asyncio.sleep(TTL_S + 0.3)
    assert await b.acquire(ALICE) == generation + 1
    async with fenced() as uow:
        with pytest.raises(LeaseLost):
            await uow.inbox.mark_done(EventId("$q2"))
    assert [m.event_id for m in await pending_of(b, ALICE)] == ["$q2"]  # the new holder answers it


async def test_a_message_handed_out_under_no_lease_is_never_marked_done(engine: AsyncEngine) -> None:
    await record(engine, message("$q1"))
    fenced = SqlAlchemyUnitOfWorkFactory(make_session_factory(engine), FencedInboxFactory(WorkTickets("a")))
    async with fenced() as uow:
        with pytest.raises(LeaseLost):
            await uow.inbox.mark_done(EventId("$q1"))


async def test_a_notification_reaches_every_listening_replica(postgres_url: str, engine: AsyncEngine) -> None:
    heard: list[list[str]] = []
    listening = PostgresInboxNotifications(postgres_url, heard.append)
    listening.start()
    try:
        for _ in range(100):  # until LISTEN is in place: a notification before it is lost (the sweep covers that)
            await replica(engine, "b").notify([ALICE, BOB])
            await asyncio.sleep(0.05)
            if heard:
                break
        assert heard[0] == [ALICE, BOB]
    finally:
        await listening.stop()


async def test_a_redaction_notification_carries_the_redaction(postgres_url: str, engine: AsyncEngine) -> None:
    heard: list[Redaction] = []
    redaction = Redaction(
        event_id=EventId("$r"), room_id=RoomId("!chat:example.org"), sender=UserId(ALICE), redacts=EventId("$q")
    )
    listening = PostgresInboxNotifications(postgres_url, lambda _: None, heard.append)
    listening.start()
    try:
        for _ in range(100):
            await replica(engine, "b").notify_redaction(redaction)
            await asyncio.sleep(0.05)
            if heard:
                break
        assert heard[0] == redaction
    finally:
        await listening.stop()


JOB = "!reconciliation"


async def test_a_job_lease_released_as_done_is_not_taken_again_within_the_idle_period(engine: AsyncEngine) -> None:
    a, b = replica(engine, "a", ttl_s=60), replica(engine, "b", ttl_s=60)
    assert await a.acquire_idle(JOB, 0) == 1
    assert await b.acquire_idle(JOB, 0) is None  # running on a
    await a.release(JOB, 1)
    assert await b.acquire_idle(JOB, 3600) is None  # done on a moments ago: b's periodic pass skips
    assert await b.acquire_idle(JOB, 0) == 2  # b's pass after its own start runs


async def test_an_abandoned_job_lease_is_taken_at_once_whatever_the_idle_period(engine: AsyncEngine) -> None:
    a, b = replica(engine, "a", ttl_s=60), replica(engine, "b", ttl_s=60)
    assert await a.acquire_idle(JOB, 0) == 1
    await a.abandon(JOB, 1)
    assert await b.acquire_idle(JOB, 3600) == 2


async def test_a_job_lease_whose_holder_died_is_taken_over_once_it_lapses(engine: AsyncEngine) -> None:
    a, b = replica(engine, "a"), replica(engine, "b")
    assert await a.acquire_idle(JOB, 0) == 1
    await asyncio.sleep(TTL_S + 0.3)
    assert await b.acquire_idle(JOB, 3600) == 2
