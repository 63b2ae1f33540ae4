"""The contract every UnitOfWork implementation keeps for the inbox and the sync token.
Part of the same contract suite as `test_repository_contract.py` (fixture `uow_factory`)."""

from domain.model.controls import QuestionEdited, Reaction
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText
from domain.model.turn import LatestTurn
from ports.unit_of_work import UnitOfWorkFactory

ROOM, OTHER_ROOM = RoomId("!r1:example.org"), RoomId("!r2:example.org")


def a_message(event_id: str, timestamp_ms: int = 1_700_000_000_000, room_id: RoomId = ROOM) -> IncomingText:
    return IncomingText(
        event_id=EventId(event_id),
        room_id=room_id,
        sender=UserId("@alice:example.org"),
        body=f"hello «{event_id}»",
        timestamp_ms=timestamp_ms,
    )


async def test_recording_an_event_twice_returns_false(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.inbox.record(a_message("$e1")) is True
        assert await uow.inbox.record(a_message("$e1")) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.record(a_message("$e1")) is False
        assert await uow.inbox.pending() == [a_message("$e1")]


async def test_pending_is_oldest_first_and_excludes_done(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for event_id, timestamp_ms in [("$late", 300), ("$done", 100), ("$b-first", 200), ("$a-second", 200)]:
            await uow.inbox.record(a_message(event_id, timestamp_ms))
        await uow.inbox.mark_done(EventId("$done"))
        await uow.commit()
    async with uow_factory() as uow:
        # Equal timestamps come back in the order they were recorded, not by event id.
        pending = [message.event_id for message in await uow.inbox.pending()]
        assert pending == ["$b-first", "$a-second", "$late"]


async def test_pending_can_be_limited_to_one_room(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.inbox.record(a_message("$here", 2))
        await uow.inbox.record(a_message("$there", 1, room_id=OTHER_ROOM))
        await uow.commit()
    async with uow_factory() as uow:
        assert [message.event_id for message in await uow.inbox.pending(ROOM)] == ["$here"]
        assert [message.event_id for message in await uow.inbox.pending()] == ["$there", "$here"]


async def test_mark_done_is_kept_only_with_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.inbox.record(a_message("$e1"))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.inbox.mark_done(EventId("$e1"))
        assert await uow.inbox.is_done(EventId("$e1")) is True
    async with uow_factory() as uow:
        assert await uow.inbox.is_done(EventId("$e1")) is False
        await uow.inbox.mark_done(EventId("$e1"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.is_done(EventId("$e1")) is True
        assert await uow.inbox.pending() == []


async def test_unknown_event_is_not_done_and_marking_it_is_harmless(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.inbox.mark_done(EventId("$never-seen"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.is_done(EventId("$never-seen")) is False
        assert await uow.inbox.record(a_message("$never-seen")) is True


async def test_recorded_messages_are_not_kept_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.inbox.record(a_message("$e1"))
    async with uow_factory() as uow:
        assert await uow.inbox.pending() == []
        assert await uow.inbox.record(a_message("$e1")) is True


async def test_sync_token_round_trips_and_is_overwritten(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.sync_state.get_token() is None
        await uow.sync_state.set_token("s1_first")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.sync_state.get_token() == "s1_first"
        await uow.sync_state.set_token("s2_second")
        assert await uow.sync_state.get_token() == "s2_second"
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.sync_state.get_token() == "s2_second"


async def test_token_and_inbox_commit_together(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.inbox.record(a_message("$e1"))
        await uow.sync_state.set_token("s1")
        await uow.rollback()
        await uow.inbox.record(a_message("$e2"))
        await uow.sync_state.set_token("s2")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.sync_state.get_token() == "s2"
        assert [message.event_id for message in await uow.inbox.pending()] == ["$e2"]


async def test_a_threaded_message_keeps_its_thread_root(uow_factory: UnitOfWorkFactory) -> None:
    threaded = IncomingText(
        event_id=EventId("$t"), room_id=ROOM, sender=UserId("@alice:example.org"), body="x", thread_root=EventId("$r")
    )
    async with uow_factory() as uow:
        await uow.inbox.record(threaded)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.pending() == [threaded]


async def test_reactions_and_edits_are_recorded_and_come_back_pending(uow_factory: UnitOfWorkFactory) -> None:
    alice = UserId("@alice:example.org")
    react = Reaction(
        event_id=EventId("$r"), room_id=ROOM, sender=alice, reacts_to=EventId("$a"), key="🔁", timestamp_ms=5
    )
    edited = QuestionEdited(
        event_id=EventId("$e"), room_id=ROOM, sender=alice, edits=EventId("$q"), body="new text", timestamp_ms=6
    )
    async with uow_factory() as uow:
        assert await uow.inbox.record(react) and await uow.inbox.record(edited)
        assert not await uow.inbox.record(react)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.pending() == [react, edited]


async def test_the_latest_turn_of_a_room_is_replaced_by_the_next(uow_factory: UnitOfWorkFactory) -> None:
    first = LatestTurn(room_id=ROOM, question_id=EventId("$q1"), question="one", answer_id=EventId("$a1"))
    second = LatestTurn(
        room_id=ROOM, question_id=EventId("$q1"), question="uno", answer_id=EventId("$a1"), trigger=EventId("$t")
    )
    async with uow_factory() as uow:
        assert await uow.turns.get(ROOM) is None
        await uow.turns.save(first)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.turns.get(ROOM) == first
        await uow.turns.save(second)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.turns.get(ROOM) == second and await uow.turns.get(OTHER_ROOM) is None
