"""A database connection that breaks under the work (a PostgreSQL restart, a failover) is retried, not dropped:
the room queues and the lease dispatch finish every message, the sync loop repeats its batch. Real PostgreSQL;
the connections are cut with `pg_terminate_backend`, as a server restart cuts them."""

import asyncio

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.matrix.backoff import Backoff
from adapters.matrix.room_queues import KeyedWorkQueues
from adapters.persistence.engine import is_connection_lost, make_engine, make_session_factory
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText

ALICE = UserId("@alice:example.org")
ROOM = RoomId("!a:example.org")


async def cut_connections(url: str) -> int:
    """Terminates every other session of the database: what the bot's pooled connections see after a restart."""
    admin = make_engine(url)
    try:
        async with admin.connect() as connection:
            killed = await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return len(killed.all())
    finally:
        await admin.dispose()


def message(n: int) -> IncomingText:
    return IncomingText(event_id=EventId(f"$m{n}"), room_id=ROOM, sender=ALICE, body=str(n))


async def test_a_cut_connection_is_told_apart_from_other_database_errors(
    engine: AsyncEngine, postgres_url: str
) -> None:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            assert await cut_connections(postgres_url) >= 1
            await connection.execute(text("SELECT 1"))
    except DBAPIError as error:
        assert is_connection_lost(error)
    else:
        raise AssertionError("the pooled connection was cut; the statement should have failed")
    async with engine.connect() as connection:
        try:
            await connection.execute(text("SELECT * FROM no_such_table"))
        except DBAPIError as error:
            assert not is_connection_lost(error)


async def test_room_queue_work_that_loses_its_connection_is_tried_again_and_done_once(
    engine: AsyncEngine, postgres_url: str
) -> None:
    uow = SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))
    attempts: list[str] = []

    async def record(item: IncomingText) -> None:
        attempts.append(item.event_id)
        async with uow() as work:
            if len(attempts) == 1:  # the server goes away in the middle of the first unit of work
                await work.inbox.is_done(item.event_id)
                await cut_connections(postgres_url)
            await work.inbox.record(item)
            await work.commit()

    queues: KeyedWorkQueues[IncomingText] = KeyedWorkQueues(record, lambda: Backoff(initial=0.0, maximum=0.0))
    for n in range(3):
        queues.submit(ROOM, message(n))
    async with asyncio.timeout(10):
        while queues.busy:
            await asyncio.sleep(0.01)

    assert attempts[0] == attempts[1] == "$m0"  # the first attempt met the cut, the second went through
    assert attempts[2:] == ["$m1", "$m2"]
    async with uow() as work:
        assert [item.event_id for item in await work.inbox.pending(ROOM)] == ["$m0", "$m1", "$m2"]


async def test_a_connection_cut_while_idle_in_the_pool_is_replaced_before_it_is_used(postgres_url: str) -> None:
    """A restart while the bot is quiet: the idle connection is pinged at checkout, found dead, replaced."""
    engine = make_engine(postgres_url, ping_idle_after_s=0.05)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        assert await cut_connections(postgres_url) >= 1
        await asyncio.sleep(0.1)
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(postgres_url: str) -> None:
    """The other side of the same rule: within the idle time nothing is checked, so a cut shows as a lost
    connection, for the caller to try again (the test above passes because of the ping, not by chance)."""
    engine = make_engine(postgres_url, ping_idle_after_s=60.0)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        assert await cut_connections(postgres_url) >= 1
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except DBAPIError as error:
            assert is_connection_lost(error)
        else:
            raise AssertionError("the cut connection was used without a ping; the statement should have failed")
        async with engine.connect() as connection:  # the pool was dropped with it: the next one is new
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()
