"""The migrations build exactly the schema the ORM rows describe, on every real backend, and
upgrading keeps the rows already there."""

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.migrate import alembic_config, upgrade_database
from adapters.persistence.tables import Base
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.model.ids import RoomId, UserId
from domain.model.room import RoomStatus
from tests.unit.persistence.conftest import EmptyDatabase

ROOM = {
    "room_id": "!r1:example.org",
    "owner": "@alice:example.org",
    "space_id": "!space-a:example.org",
    "chat_number": 1,
    "name": "Chat 1",
    "agent_id": "echo",
    "platform_chat_id": "pc-1",
    "status": "archived",
    "message_count": 7,
}


def _schema_drift(connection: Connection) -> list[Any]:
    drift: list[Any] = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return drift


def _down_and_up_again(connection: Connection) -> set[str]:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")
    emptied = set(inspect(connection).get_table_names()) - {"alembic_version"}
    command.upgrade(config, "head")
    return emptied


def _initial_schema_with_rows(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "0001")
    columns = ", ".join(ROOM)
    connection.execute(text(f"INSERT INTO rooms ({columns}) VALUES ({', '.join(':' + c for c in ROOM)})"), ROOM)
    connection.execute(text("INSERT INTO sync_state (key, value) VALUES ('next_batch', 's1')"))


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_drift) == []
    finally:
        await engine.dispose()


async def test_migrations_downgrade_cleanly(database_url: str) -> None:
    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            assert await connection.run_sync(_down_and_up_again) == set()
            assert await connection.run_sync(_schema_drift) == []
    finally:
        await engine.dispose()


async def test_upgrading_from_the_initial_schema_keeps_existing_rows(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_initial_schema_with_rows)
        await upgrade_database(database_url)
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_drift) == []
        async with SqlAlchemyUnitOfWork(make_session_factory(engine)) as uow:
            room = await uow.rooms.get(RoomId("!r1:example.org"))
            assert room is not None
            assert (room.owner, room.status, room.message_count) == ("@alice:example.org", RoomStatus.ARCHIVED, 7)
            assert room.archived_notice_sent is False
            assert await uow.sync_state.get_token() == "s1"
            assert await uow.snapshots.for_owner(UserId("@alice:example.org")) == []
    finally:
        await engine.dispose()


async def test_replicas_migrating_one_postgresql_database_at_once_both_start(empty_database: EmptyDatabase) -> None:
    url = await empty_database("postgres")
    await asyncio.gather(upgrade_database(url), upgrade_database(url), upgrade_database(url))
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_drift) == []
    finally:
        await engine.dispose()
