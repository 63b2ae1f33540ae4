"""The appservice transaction endpoint over the real repositories (SQLite and PostgreSQL): the hs token checked,
200 only once the transaction is committed, a replay acknowledged without re-processing, a failure never 200."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from adapters.matrix.appservice.intake import TransactionIntake
from adapters.matrix.appservice.server import AppserviceServer
from adapters.matrix.room_queues import KeyedWorkQueues
from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, SqlAlchemyUnitOfWorkFactory
from domain.model.messages import Invitation, RoomEvent
from ports.unit_of_work import UnitOfWorkFactory
from tests.unit.persistence.test_connection_lost import cut_connections

BOT = "@bot:localhost"
HS_TOKEN = "hs-secret"
AUTH = {"Authorization": f"Bearer {HS_TOKEN}"}
TXN = "/_matrix/app/v1/transactions"


def text_event(event_id: str, body: str = "hi", room: str = "!chat:localhost") -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "room_id": room,
        "sender": "@alice:localhost",
        "event_id": event_id,
        "origin_server_ts": 1_700_000_000_000,
        "content": {"msgtype": "m.text", "body": body},
    }


def invite_event(room: str, unsigned: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "m.room.member",
        "room_id": room,
        "sender": "@alice:localhost",
        "state_key": BOT,
        "event_id": f"$invite-{room}",
        "origin_server_ts": 1_700_000_000_000,
        "content": {"membership": "invite"},
        "unsigned": unsigned or {},
    }


class FailingCommitUnitOfWorkFactory:
    """The real unit of work whose commit fails, as when the database goes away mid-transaction."""

    def __init__(self, real: SqlAlchemyUnitOfWorkFactory) -> None:
        self._real = real

    def __call__(self) -> SqlAlchemyUnitOfWork:
        uow = self._real()

        async def commit() -> None:
            raise ConnectionError("the database went away")

        uow.commit = commit  # type: ignore[method-assign]
        return uow


class LocalDispatch:
    """Stands in for the lease dispatch of one replica: recorded messages go to the room queues in inbox order."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        queues: KeyedWorkQueues[RoomEvent],
        accept: Callable[[Invitation], Awaitable[None]],
    ) -> None:
        self._uow = uow
        self._queues = queues
        self._accept = accept
        self._handed_out: set[str] = set()
        self._pumps: set[asyncio.Task[None]] = set()

    def recorded(self, people: Iterable[str]) -> None:
        if list(people):
            pump = asyncio.ensure_future(self._pump())
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    def run_here(self, event: RoomEvent) -> None:
        self._queues.submit(event.room_id, event)

    async def _pump(self) -> None:
        async with self._uow() as uow:
            pending = await uow.inbox.pending()
            invitations = await uow.transactions.invitations()
        for invitation in invitations:
            if invitation.room_id not in self._handed_out:
                self._handed_out.add(invitation.room_id)
                await self._accept(invitation)
        for message in pending:
            if message.event_id not in self._handed_out:
                self._handed_out.add(message.event_id)
                self._queues.submit(message.room_id, message)


@dataclass
class Bot:
    """The endpoint and what reached the room queues and the invite handler, each seen with a fresh unit of work."""

    client: TestClient[Any, Any]
    uow: UnitOfWorkFactory
    handled: list[RoomEvent] = field(default_factory=list)
    committed_when_handled: list[bool] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0.01)

    async def pending_ids(self) -> list[str]:
        async with self.uow() as uow:
            return [message.event_id for message in await uow.inbox.pending()]

    async def known(self, txn_id: str) -> bool:
        async with self.uow() as uow:  # claimed and never committed: the unit of work rolls it back
            return not await uow.transactions.claim(txn_id)


async def make_bot(uow: UnitOfWorkFactory, intake_uow: UnitOfWorkFactory | None = None) -> AsyncIterator[Bot]:
    bot: Bot

    async def handle(event: RoomEvent) -> None:
        bot.handled.append(event)
        bot.committed_when_handled.append(event.event_id in await bot.pending_ids())

    async def accept(invitation: Invitation) -> None:
        bot.invitations.append(invitation)

    queues: KeyedWorkQueues[RoomEvent] = KeyedWorkQueues(handle)
    intake = TransactionIntake(intake_uow or uow, BOT, LocalDispatch(uow, queues, accept))
    server = AppserviceServer("127.0.0.1", 0, HS_TOKEN, intake)
    client: TestClient[Any, Any] = TestClient(TestServer(server.app()))
    await client.start_server()
    bot = Bot(client=client, uow=uow)
    try:
        yield bot
    finally:
        await client.close()
        await queues.shutdown(1)


@pytest_asyncio.fixture
async def real_uow(database_url: str) -> AsyncIterator[SqlAlchemyUnitOfWorkFactory]:
    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        yield SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))
    finally:
        await engine.dispose()


@pytest_asyncio.fixture
async def bot(real_uow: SqlAlchemyUnitOfWorkFactory) -> AsyncIterator[Bot]:
    async for made in make_bot(real_uow):
        yield made


async def test_a_missing_or_wrong_hs_token_is_refused_and_nothing_is_stored(bot: Bot) -> None:
    body = {"events": [text_event("$e1")]}
    missing = await bot.client.put(f"{TXN}/t1", json=body)
    assert missing.status == 401 and (await missing.json())["errcode"] == "M_MISSING_TOKEN"
    wrong = await bot.client.put(f"{TXN}/t1", json=body, headers={"Authorization": "Bearer hs-secreT"})
    assert wrong.status == 403 and (await wrong.json())["errcode"] == "M_FORBIDDEN"
    for path in ("/_matrix/app/v1/ping", "/_matrix/app/v1/users/%40x%3Alocalhost"):
        assert (await bot.client.request("POST" if "ping" in path else "GET", path)).status == 401
    await bot.settle()
    assert await bot.pending_ids() == [] and not await bot.known("t1") and bot.handled == []


async def test_200_comes_after_the_commit_and_the_queues_see_committed_messages(bot: Bot) -> None:
    response = await bot.client.put(f"{TXN}/t1", json={"events": [text_event("$e1"), text_event("$e2")]}, headers=AUTH)
    assert response.status == 200 and await response.json() == {}
    assert await bot.pending_ids() == ["$e1", "$e2"] and await bot.known("t1")
    await bot.settle()
    assert [e.event_id for e in bot.handled] == ["$e1", "$e2"]
    assert bot.committed_when_handled == [True, True]


async def test_a_replayed_transaction_is_acknowledged_without_reprocessing(bot: Bot) -> None:
    body = {"events": [text_event("$e1")]}
    assert (await bot.client.put(f"{TXN}/t1", json=body, headers=AUTH)).status == 200
    assert (await bot.client.put(f"{TXN}/t1", json=body, headers=AUTH)).status == 200
    # The same event in another transaction is a duplicate for the inbox: recorded once, handled once.
    assert (await bot.client.put(f"{TXN}/t2", json=body, headers=AUTH)).status == 200
    await bot.settle()
    assert [e.event_id for e in bot.handled] == ["$e1"]
    assert await bot.pending_ids() == ["$e1"]


async def test_a_database_failure_answers_500_and_the_retry_is_taken_in_once(
    real_uow: SqlAlchemyUnitOfWorkFactory,
) -> None:
    body = {"events": [text_event("$e1")]}
    async for failing in make_bot(real_uow, intake_uow=FailingCommitUnitOfWorkFactory(real_uow)):
        response = await failing.client.put(f"{TXN}/t1", json=body, headers=AUTH)
        assert response.status == 500 and (await response.json())["errcode"] == "M_UNKNOWN"
        await failing.settle()
        assert failing.handled == [] and await failing.pending_ids() == [] and not await failing.known("t1")
    async for bot in make_bot(real_uow):
        assert (await bot.client.put(f"{TXN}/t1", json=body, headers=AUTH)).status == 200
        await bot.settle()
        assert [e.event_id for e in bot.handled] == ["$e1"] and await bot.known("t1")


async def test_the_bots_invites_are_accepted_except_into_encrypted_rooms(bot: Bot) -> None:
    encrypted = {"invite_room_state": [{"type": "m.room.encryption", "state_key": "", "content": {}}]}
    events = [invite_event("!dm:localhost"), invite_event("!secret:localhost", encrypted)]
    other = {**invite_event("!x:localhost"), "state_key": "@someone:localhost"}
    assert (await bot.client.put(f"{TXN}/t1", json={"events": [*events, other]}, headers=AUTH)).status == 200
    await bot.settle()
    assert [i.room_id for i in bot.invitations] == ["!dm:localhost"]
    assert bot.invitations[0].inviter == "@alice:localhost"
    async with bot.uow() as uow:  # kept until acted on: a crash after the 200 loses no first contact
        assert await uow.transactions.invitations() == bot.invitations


async def test_encrypted_messages_and_the_bots_own_are_not_recorded(bot: Bot) -> None:
    megolm = {
        **text_event("$enc"),
        "type": "m.room.encrypted",
        "content": {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgA",
            "sender_key": "k",
            "session_id": "s",
            "device_id": "D",
        },
    }
    own = {**text_event("$own"), "sender": BOT}
    assert (await bot.client.put(f"{TXN}/t1", json={"events": [megolm, own, "junk", {}]}, headers=AUTH)).status == 200
    await bot.settle()
    assert bot.handled == [] and await bot.pending_ids() == []


async def test_queries_for_users_and_rooms_are_not_found_and_ping_answers(bot: Bot) -> None:
    for path in ("/_matrix/app/v1/users/%40x%3Alocalhost", "/_matrix/app/v1/rooms/%23a%3Alocalhost"):
        response = await bot.client.get(path, headers=AUTH)
        assert response.status == 404 and (await response.json())["errcode"] == "M_NOT_FOUND"
    ping = await bot.client.post("/_matrix/app/v1/ping", json={"transaction_id": "p"}, headers=AUTH)
    assert ping.status == 200 and await ping.json() == {}


async def test_a_body_without_events_is_a_bad_request(bot: Bot) -> None:
    assert (await bot.client.put(f"{TXN}/t1", data=b"not json", headers=AUTH)).status == 400
    assert (await bot.client.put(f"{TXN}/t1", json={"events": {}}, headers=AUTH)).status == 400
    assert not await bot.known("t1")


async def test_two_replicas_taking_in_the_same_transaction_record_it_once(postgres_url: str) -> None:
    """Synapse retrying on another connection while the first delivery is still open: the second claim waits for
    the first commit, then sees a replay (no primary-key failure, no 500)."""
    await upgrade_database(postgres_url)
    engine = make_engine(postgres_url)
    uow = SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))
    try:
        async with uow() as first:
            assert await first.transactions.claim("t1")

            async def second_claim() -> bool:
                async with uow() as second:
                    claimed = await second.transactions.claim("t1")
                    await second.commit()
                    return claimed

            racing = asyncio.ensure_future(second_claim())
            await asyncio.sleep(0.2)
            assert not racing.done()  # waiting on the first delivery's uncommitted row
            await first.commit()
        assert await racing is False
    finally:
        await engine.dispose()


async def test_a_connection_cut_before_a_transaction_is_retried_at_once_not_answered_500(
    postgres_url: str,
) -> None:
    """After a database restart the pooled connection is dead (too recently used to be pinged): the intake tries
    once more on a new connection, so the homeserver gets its 200 and does not back off."""
    await upgrade_database(postgres_url)
    engine = make_engine(postgres_url)
    try:
        async for bot in make_bot(SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))):
            assert (await bot.client.put(f"{TXN}/t1", json={"events": [text_event("$e1")]}, headers=AUTH)).status == 200
            assert await cut_connections(postgres_url) >= 1
            response = await bot.client.put(f"{TXN}/t2", json={"events": [text_event("$e2")]}, headers=AUTH)
            assert response.status == 200
            await bot.settle()
            assert [e.event_id for e in bot.handled] == ["$e1", "$e2"]
    finally:
        await engine.dispose()
