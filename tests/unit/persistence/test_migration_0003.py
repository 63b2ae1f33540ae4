"""Migration 0003 (files): inbox rows written before it read back as the texts they were."""

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Connection, text

from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.migrate import alembic_config, upgrade_database
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText

ROW = {
    "event_id": "$old",
    "room_id": "!r1:example.org",
    "sender": "@alice:example.org",
    "body": "written before files existed",
    "timestamp_ms": 5,
    "received_at": datetime(2026, 1, 1, tzinfo=UTC),
}


def _inbox_row_at_0002(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "0002")
    columns = ", ".join(ROW)
    connection.execute(text(f"INSERT INTO inbox ({columns}) VALUES ({', '.join(':' + c for c in ROW)})"), ROW)


async def test_inbox_rows_from_before_files_are_texts(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_inbox_row_at_0002)
        await upgrade_database(database_url)
        async with SqlAlchemyUnitOfWork(make_session_factory(engine)) as uow:
            assert await uow.inbox.pending() == [
                IncomingText(
                    event_id=EventId("$old"),
                    room_id=RoomId("!r1:example.org"),
                    sender=UserId("@alice:example.org"),
                    body="written before files existed",
                    timestamp_ms=5,
                )
            ]
            assert await uow.staged_files.for_room(RoomId("!r1:example.org")) == []
    finally:
        await engine.dispose()
