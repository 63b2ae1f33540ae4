"""Two replicas' lease dispatch over one real PostgreSQL: each message answered once, each person's in order,
whichever replica took it in; a replica that dies (stops renewing) has its people taken over after the lease."""

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.matrix.appservice.lease_dispatch import LeasedDispatch
from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.fenced_inbox import FencedInboxFactory, WorkTickets
from adapters.persistence.lease_notifications import PostgresInboxNotifications
from adapters.persistence.leases import PostgresPersonLeases
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from domain.model.controls import Redaction
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText, Invitation, RoomEvent
from tests.unit.persistence.conftest import EmptyDatabase
from tests.unit.persistence.test_connection_lost import cut_connections

LEASE_S = 1.0
PEOPLE = [f"@person{n}:example.org" for n in range(3)]


@dataclass
class Replica:
    """One replica's dispatch; its handler marks each message done through the fenced inbox, as the domain does."""

    name: str
    engine: AsyncEngine
    url: str
    answered: list[str]
    hold: asyncio.Event = field(default_factory=asyncio.Event)
    preempted: list[RoomEvent] = field(default_factory=list)
    dispatch: LeasedDispatch = field(init=False)
    sweeping: asyncio.Task[None] = field(init=False)
    listening: PostgresInboxNotifications = field(init=False)

    def __post_init__(self) -> None:
        self.hold.set()
        tickets = WorkTickets(self.name)
        self._uow = SqlAlchemyUnitOfWorkFactory(make_session_factory(self.engine), FencedInboxFactory(tickets))
        leases = PostgresPersonLeases(self.engine, self.name, LEASE_S)
        self.dispatch = LeasedDispatch(
            leases, tickets, self._answer, self._accept, self.preempted.append, LEASE_S, sweep_s=0.1
        )
        self.listening = PostgresInboxNotifications(self.url, self.dispatch.nudged, self.dispatch.redacted)

    async def start(self) -> None:
        self.listening.start()
        self.sweeping = asyncio.create_task(self.dispatch.run())

    async def _answer(self, event: RoomEvent) -> None:
        await self.hold.wait()
        await asyncio.sleep(random.uniform(0, 0.01))
        async with self._uow() as uow:
            await uow.inbox.mark_done(event.event_id)
            await uow.commit()
        self.answered.append(event.event_id)

    async def _accept(self, invitation: Invitation) -> None:
        await self.hold.wait()
        self.answered.append(invitation.room_id)

    def die(self) -> None:
        """kill -9 as the others see it: no more renewals, no release, its running answer never finishes."""
        self.hold.clear()
        self.sweeping.cancel()

    async def stop(self) -> None:
        self.hold.set()
        await self.listening.stop()
        await self.dispatch.shutdown(1)
        self.sweeping.cancel()
        await asyncio.gather(self.sweeping, return_exceptions=True)


@pytest_asyncio.fixture
async def two(empty_database: EmptyDatabase) -> AsyncIterator[tuple[Replica, Replica, list[str], AsyncEngine]]:
    url = await empty_database("postgres")
    await upgrade_database(url)
    engine = make_engine(url)
    answered: list[str] = []
    a, b = Replica("a", engine, url, answered), Replica("b", engine, url, answered)
    await a.start()
    await b.start()
    try:
        yield a, b, answered, engine
    finally:
        await a.stop()
        await b.stop()
        await engine.dispose()


async def take_in(
    engine: AsyncEngine, by: Replica, batch: list[IncomingText], invitations: tuple[Invitation, ...] = ()
) -> None:
    """What the transaction intake does: commit the batch, then hand its senders to this replica's dispatch."""
    async with SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))() as uow:
        for one in batch:
            await uow.inbox.record(one)
        for invitation in invitations:
            await uow.transactions.keep_invitation(invitation)
        await uow.commit()
    by.dispatch.recorded([*(m.sender for m in batch), *(i.inviter for i in invitations)])


def questions(count: int) -> list[IncomingText]:
    return [
        IncomingText(
            event_id=EventId(f"${person[1:8]}-{n:03}"),
            room_id=RoomId(f"!room-{person[1:8]}:example.org"),
            sender=UserId(person),
            body=str(n),
            timestamp_ms=1_000 + n,
        )
        for n in range(count)
        for person in PEOPLE
    ]


async def until(condition: object, timeout_s: float = 60) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not reached in time")


def in_order_per_person(answered: list[str]) -> bool:
    for person in PEOPLE:
        mine = [event_id for event_id in answered if event_id.startswith(f"${person[1:8]}-")]
        if mine != sorted(mine):
            return False
    return True


async def test_each_message_is_answered_once_and_each_person_in_order_by_either_replica(
    two: tuple[Replica, Replica, list[str], AsyncEngine],
) -> None:
    a, b, answered, engine = two
    sent = questions(20)
    for start in range(0, len(sent), 4):  # transactions land on either replica, as behind a load balancer
        await take_in(engine, random.choice([a, b]), sent[start : start + 4])
    await until(lambda: len(answered) >= len(sent))
    await asyncio.sleep(0.5)  # anything answered twice would show up now
    assert sorted(answered) == sorted(m.event_id for m in sent)
    assert in_order_per_person(answered)


async def test_the_people_of_a_replica_that_dies_are_answered_by_the_other_after_the_lease(
    two: tuple[Replica, Replica, list[str], AsyncEngine],
) -> None:
    a, _b, answered, engine = two
    first, later = questions(3), questions(6)[len(PEOPLE) * 3 :]
    await take_in(engine, a, first)
    await until(lambda: len(answered) == len(first))
    a.die()  # a may hold everyone's lease now: it took them all in
    await take_in(engine, a, later)  # committed (acknowledged), then a dies before answering
    await until(lambda: len(answered) == len(first) + len(later), timeout_s=60)
    a.hold.set()  # a's stuck answers wake up late: the fence refuses their "done"
    await asyncio.sleep(0.5)
    assert sorted(answered) == sorted(m.event_id for m in first + later)
    assert in_order_per_person(answered)


async def test_an_invitation_taken_in_before_a_crash_is_accepted_once_by_the_other_replica(
    two: tuple[Replica, Replica, list[str], AsyncEngine],
) -> None:
    a, _b, answered, engine = two
    invitation = Invitation(room_id=RoomId("!dm:example.org"), inviter=UserId(PEOPLE[0]))
    a.die()  # acknowledged by a, which dies before acting on it
    await take_in(engine, a, [], (invitation,))
    await until(lambda: invitation.room_id in answered, timeout_s=60)
    await asyncio.sleep(0.5)
    assert answered == [invitation.room_id]
    async with SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))() as uow:
        assert await uow.transactions.invitations() == []  # acted on: no longer kept


async def test_a_redaction_received_by_one_replica_stops_the_answer_the_other_is_giving(
    two: tuple[Replica, Replica, list[str], AsyncEngine],
) -> None:
    a, b, _answered, engine = two
    question = questions(1)[0]
    a.hold.clear()
    b.hold.clear()  # whichever replica takes the question is in the middle of answering it
    await take_in(engine, a, [question])
    await until(lambda: question in a.preempted or question in b.preempted)
    answering, other = (a, b) if question in a.preempted else (b, a)
    redaction = Redaction(
        event_id=EventId("$redaction"), room_id=question.room_id, sender=question.sender, redacts=question.event_id
    )
    other.dispatch.run_here(redaction)  # the load balancer gave the redaction to the other replica
    await until(lambda: redaction in answering.preempted)
    a.hold.set()
    b.hold.set()


async def test_connections_cut_while_answering_lose_nothing_and_answer_nothing_twice(
    two: tuple[Replica, Replica, list[str], AsyncEngine],
) -> None:
    a, b, answered, _ = two
    batch = questions(15)
    intake = make_engine(a.url)  # the intake's own pool: what is cut here is the answering replicas'
    try:
        await take_in(intake, a, batch[:24])
        await take_in(intake, b, batch[24:])
        for _ in range(3):  # a server restart, three times, while the answers are being marked done
            await asyncio.sleep(0.05)
            await cut_connections(a.url)
        await until(lambda: len(answered) >= len(batch))
    finally:
        await intake.dispose()
    assert sorted(answered) == sorted(m.event_id for m in batch)
    assert in_order_per_person(answered)
