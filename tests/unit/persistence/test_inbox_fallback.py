"""`SqlAlchemyInbox.record` on a dialect without ON CONFLICT falls back to a savepoint; the
fallback is exercised here on the backends we have by hiding their ON CONFLICT support."""

import pytest

from adapters.persistence import inbox as inbox_module
from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText

MESSAGE = IncomingText(
    event_id=EventId("$e1"), room_id=RoomId("!r:example.org"), sender=UserId("@a:example.org"), body="hi"
)


async def test_savepoint_fallback_is_idempotent_and_keeps_the_transaction(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_module, "_insert_unless_known", lambda dialect, by_database=False: None)
    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        async with SqlAlchemyUnitOfWork(make_session_factory(engine)) as uow:
            await uow.sync_state.set_token("s1")
            assert await uow.inbox.record(MESSAGE) is True
            assert await uow.inbox.record(MESSAGE) is False
            await uow.commit()
        async with SqlAlchemyUnitOfWork(make_session_factory(engine)) as uow:
            assert await uow.sync_state.get_token() == "s1"
            assert await uow.inbox.pending() == [MESSAGE]
    finally:
        await engine.dispose()
