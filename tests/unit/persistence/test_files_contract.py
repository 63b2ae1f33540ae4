"""The contract every UnitOfWork implementation keeps for file events in the inbox and for staged files.
Part of the same contract suite as `test_repository_contract.py` (fixture `uow_factory`)."""

from domain.model.attachment import Attachment
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingFile, IncomingText, MediaKind
from domain.model.staged_file import StagedFile
from ports.unit_of_work import UnitOfWorkFactory

ROOM, OTHER_ROOM = RoomId("!r1:example.org"), RoomId("!r2:example.org")


def a_file(event_id: str, size: int | None = 2048, timestamp_ms: int = 100) -> IncomingFile:
    return IncomingFile(
        event_id=EventId(event_id),
        room_id=ROOM,
        sender=UserId("@alice:example.org"),
        filename="../../évil\u202e\ud800name.pdf",  # kept as sent: lone surrogate and all
        caption="what is in it?",
        kind=MediaKind.IMAGE,
        mime_type="image/png",
        size=size,
        media="mxc://example.org/abc",
        timestamp_ms=timestamp_ms,
    )


def staged(event_id: str, room_id: RoomId = ROOM, timestamp_ms: int = 1, name: str = "a.pdf") -> StagedFile:
    attachment = Attachment(
        kind="file",
        filename=name,
        mime_type="application/pdf",
        size=5_000_000_000,  # beyond 32 bits
        workspace_path=f"surfaces/matrix/u/r/inbox/{event_id.strip('$')}-{name}",
    )
    return StagedFile(room_id=room_id, event_id=EventId(event_id), attachment=attachment, timestamp_ms=timestamp_ms)


async def test_a_file_event_survives_the_inbox_with_every_field(uow_factory: UnitOfWorkFactory) -> None:
    files = [a_file("$f1"), a_file("$f2", size=None, timestamp_ms=200)]
    text = IncomingText(event_id=EventId("$t1"), room_id=ROOM, sender=UserId("@alice:example.org"), body="hi")
    async with uow_factory() as uow:
        for message in (*files, text):
            assert await uow.inbox.record(message) is True
        assert await uow.inbox.record(a_file("$f1")) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.pending() == [text, *files]


async def test_a_file_event_marked_done_is_no_longer_pending(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.inbox.record(a_file("$f1"))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.inbox.mark_done(EventId("$f1"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.is_done(EventId("$f1")) and await uow.inbox.pending() == []


async def test_staged_files_round_trip_per_room_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    later, earlier, elsewhere = staged("$b", timestamp_ms=2), staged("$a", timestamp_ms=1), staged("$c", OTHER_ROOM)
    async with uow_factory() as uow:
        for file in (later, earlier, elsewhere):
            await uow.staged_files.add(file)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.staged_files.for_room(ROOM) == [earlier, later]
        assert await uow.staged_files.for_room(OTHER_ROOM) == [elsewhere]
        assert await uow.staged_files.for_room(RoomId("!none:example.org")) == []


async def test_staging_the_same_event_again_keeps_one(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.staged_files.add(staged("$a"))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.staged_files.add(staged("$a"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.staged_files.for_room(ROOM) == [staged("$a")]


async def test_remove_unstages_only_the_named_files_of_that_room(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for file in (staged("$a"), staged("$b"), staged("$a", OTHER_ROOM)):
            await uow.staged_files.add(file)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.staged_files.remove(ROOM, [EventId("$a"), EventId("$never")])
        await uow.staged_files.remove(ROOM, [])
        assert await uow.staged_files.for_room(ROOM) == [staged("$b")]
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.staged_files.for_room(ROOM) == [staged("$b")]
        assert await uow.staged_files.for_room(OTHER_ROOM) == [staged("$a", OTHER_ROOM)]


async def test_staged_changes_are_kept_only_with_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.staged_files.add(staged("$kept"))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.staged_files.add(staged("$dropped"))
        await uow.staged_files.remove(ROOM, [EventId("$kept")])
    async with uow_factory() as uow:
        assert await uow.staged_files.for_room(ROOM) == [staged("$kept")]
