"""Files both ways, against fakes: receive, stage, send on with the next text, post what the agent wrote."""

from dataclasses import replace

import pytest

from domain.model.agent import AgentFailed, Done, FileEmitted, TextDelta
from domain.model.ids import EventId, RoomId, UserId
from domain.model.media import MediaKey
from domain.model.messages import IncomingFile, IncomingText, MediaKind
from domain.model.room import ChatRoom, RoomStatus
from domain.model.workspace_layout import inbox_path
from ports.media import MediaTooLarge
from ports.workspace import Refusal
from tests.unit.domain.conftest import MAX_BYTES, World, build_world
from tests.unit.fakes.network import ScriptedPlatform

ALICE, BOB = UserId("@alice:example.org"), UserId("@bob:example.org")
DM = RoomId("!dm:example.org")
CONTENT = b"%PDF-1.7 quarterly numbers"
KEY = MediaKey(key="k", iv="iv", sha256="hash")


async def chat_of(world: World) -> ChatRoom:
    result = await world.onboard.execute(ALICE, DM)
    assert result.first_room is not None
    world.sender.sent.clear()
    return result.first_room


async def second_chat(world: World, first: ChatRoom) -> ChatRoom:
    other = replace(first, room_id=RoomId("!other:example.org"), chat_number=2, context=first.context.rotated())
    async with world.uow() as uow:
        await uow.rooms.add(other)
        await uow.commit()
    return other


def a_file(
    room: ChatRoom | RoomId,
    n: int = 1,
    name: str = "report.pdf",
    caption: str = "",
    content: bytes | None = CONTENT,
    declared: int | None = -1,
    sender: UserId = ALICE,
    world: World | None = None,
) -> IncomingFile:
    """A file event; its content is put in the fake media store when `world` is given."""
    media = f"mxc://example.org/m{n}"
    if world is not None and content is not None:
        world.media.content[media] = content
    size = (len(content) if content is not None else None) if declared == -1 else declared
    return IncomingFile(
        event_id=EventId(f"$file{n}"),
        room_id=room.room_id if isinstance(room, ChatRoom) else room,
        sender=sender,
        filename=name,
        caption=caption,
        kind=MediaKind.FILE,
        mime_type="application/pdf",
        size=size,
        media=media,
        timestamp_ms=1_764_072_000_000 + n,
    )


def text(room: ChatRoom, body: str, n: int = 1) -> IncomingText:
    return IncomingText(event_id=EventId(f"$text{n}"), room_id=room.room_id, sender=ALICE, body=body)


async def done(world: World, event_id: EventId) -> bool:
    async with world.uow() as uow:
        return await uow.inbox.is_done(event_id)


async def record(world: World, *messages: IncomingText | IncomingFile) -> None:
    async with world.uow() as uow:
        for message in messages:
            await uow.inbox.record(message)
        await uow.commit()


async def deliver(world: World, message: IncomingText | IncomingFile) -> None:
    """As the sync loop does: recorded in the inbox, then handled from the room's queue."""
    await record(world, message)
    await world.events.execute(message)


# -- incoming ------------------------------------------------------------------------------------


async def test_a_bare_file_is_stored_in_the_rooms_inbox_staged_and_acknowledged(world: World) -> None:
    room = await chat_of(world)
    file = a_file(room, world=world)

    await deliver(world, file)

    assert world.workspace.files == {inbox_path(file): CONTENT}
    assert world.platform.requests == []
    (ack,) = world.sender.sent
    assert ack.notice and ack.reply_to == file.event_id and ack.txn_id == f"reply-{file.event_id}"
    assert "`report.pdf`" in ack.text and "next message" in ack.text
    assert await done(world, file.event_id)
    async with world.uow() as uow:
        (staged,) = await uow.staged_files.for_room(room.room_id)
    assert staged.attachment.workspace_path == inbox_path(file) and staged.attachment.size == len(CONTENT)


async def test_the_next_text_takes_the_staged_files_with_relative_paths_and_clears_them(world: World) -> None:
    room = await chat_of(world)
    first, second = a_file(room, 1, "a.pdf", world=world), a_file(room, 2, "b.png", world=world)
    for file in (first, second):
        await deliver(world, file)

    await deliver(world, text(room, "what are these?", 1))
    await deliver(world, text(room, "and now?", 2))

    with_files, without = world.platform.requests
    assert [a.workspace_path for a in with_files.attachments] == [inbox_path(first), inbox_path(second)]
    assert [a.filename for a in with_files.attachments] == ["a.pdf", "b.png"]
    assert all(not a.workspace_path.startswith("/") for a in with_files.attachments)
    assert without.attachments == ()
    async with world.uow() as uow:
        assert await uow.staged_files.for_room(room.room_id) == []


async def test_files_staged_in_one_room_never_go_with_a_message_in_another(world: World) -> None:
    room_a = await chat_of(world)
    room_b = await second_chat(world, room_a)
    await deliver(world, a_file(room_a, world=world))

    await deliver(world, text(room_b, "hello from B", 1))
    await deliver(world, text(room_a, "hello from A", 2))

    in_b, in_a = world.platform.requests
    assert in_b.platform_chat_id == room_b.context.platform_chat_id and in_b.attachments == ()
    assert in_a.platform_chat_id == room_a.context.platform_chat_id and len(in_a.attachments) == 1


async def test_a_file_with_a_caption_goes_to_the_agent_at_once_with_the_staged_ones(world: World) -> None:
    room = await chat_of(world)
    bare = a_file(room, 1, "first.txt", world=world)
    captioned = a_file(room, 2, "second.txt", caption="compare these two", world=world)
    await deliver(world, bare)

    await deliver(world, captioned)

    (request,) = world.platform.requests
    assert request.text == "compare these two"
    assert [a.filename for a in request.attachments] == ["first.txt", "second.txt"]
    reply = world.sender.sent[-1]
    assert reply.reply_to == captioned.event_id and reply.txn_id == f"reply-{captioned.event_id}"
    assert await done(world, captioned.event_id)
    async with world.uow() as uow:
        assert await uow.staged_files.for_room(room.room_id) == []


async def test_a_hostile_name_is_stored_under_a_safe_name_inside_the_rooms_inbox(world: World) -> None:
    room = await chat_of(world)
    file = a_file(room, name="../../etc/\u202epasswd\x00", world=world)
    await deliver(world, file)
    (path,) = world.workspace.files
    assert path == inbox_path(file) and path.endswith("-etc_passwd") and ".." not in path.split("/")


async def test_a_declared_oversize_file_is_refused_without_downloading_anything(world: World) -> None:
    room = await chat_of(world)
    file = a_file(room, content=b"x" * (MAX_BYTES + 1), world=world)
    await deliver(world, file)
    assert world.media.downloads == [] and world.workspace.files == {}
    (refusal,) = world.sender.sent
    assert refusal.notice and "larger than the limit" in refusal.text and "9.8 KB" in refusal.text
    assert await done(world, file.event_id)
    async with world.uow() as uow:
        assert await uow.staged_files.for_room(room.room_id) == []


async def test_a_file_that_lies_about_its_size_is_cut_off_and_nothing_is_kept(world: World) -> None:
    room = await chat_of(world)
    file = a_file(room, content=b"x" * (MAX_BYTES * 3), declared=10, world=world)
    await deliver(world, file)
    assert world.workspace.files == {}
    assert "larger than the limit" in world.sender.sent[0].text


async def test_the_homeserver_limit_applies_when_smaller(world: World) -> None:
    room = await chat_of(world)
    world.media.limit = 100
    await deliver(world, a_file(room, content=b"x" * 101, world=world))
    assert world.media.downloads == [] and "100 bytes" in world.sender.sent[0].text


async def test_a_failed_download_is_told_and_not_staged(world: World) -> None:
    room = await chat_of(world)
    file = a_file(room, world=world)
    world.media.failing = True
    await deliver(world, file)
    assert "could not fetch" in world.sender.sent[0].text and await done(world, file.event_id)
    async with world.uow() as uow:
        assert await uow.staged_files.for_room(room.room_id) == []


async def test_an_encrypted_file_is_downloaded_with_its_key(world: World) -> None:
    room = await chat_of(world)
    file = replace(a_file(room, world=world), media_key=KEY)
    await deliver(world, file)
    assert world.media.download_keys == [KEY] and world.workspace.files == {inbox_path(file): CONTENT}


async def test_a_file_failing_its_integrity_check_is_refused_and_not_kept(world: World) -> None:
    room = await chat_of(world)
    file = replace(a_file(room, caption="what is this?", world=world), media_key=KEY)
    world.media.tampered.add(file.media)
    await deliver(world, file)
    (refusal,) = world.sender.sent
    assert refusal.notice and refusal.reply_to == file.event_id and "checksum" in refusal.text
    assert world.workspace.files == {} and world.platform.requests == [] and await done(world, file.event_id)
    async with world.uow() as uow:
        assert await uow.staged_files.for_room(room.room_id) == []


async def test_an_unwritable_workspace_is_told_and_nothing_is_lost_from_the_conversation(world: World) -> None:
    room = await chat_of(world)
    world.workspace.unwritable = True
    await deliver(world, a_file(room, world=world))
    assert "shared workspace" in world.sender.sent[0].text
    await deliver(world, text(room, "still there?"))
    assert world.platform.requests[0].text == "still there?"


async def test_the_same_file_event_is_handled_once(world: World) -> None:
    room = await chat_of(world)
    file = a_file(room, world=world)
    await deliver(world, file)
    await deliver(world, file)
    assert len(world.media.downloads) == 1 and len(world.sender.sent) == 1


async def test_files_from_someone_else_are_ignored(world: World) -> None:
    room = await chat_of(world)
    await deliver(world, a_file(room, sender=BOB, world=world))
    assert world.media.downloads == [] and world.sender.sent == []


async def test_a_file_in_the_lobby_gets_the_pointer_to_the_space_and_is_not_kept(world: World) -> None:
    await chat_of(world)
    await deliver(world, a_file(DM, world=world))
    assert world.media.downloads == []
    assert "lobby" in world.sender.sent[0].text


async def test_a_file_in_an_archived_chat_gets_the_archive_notice(world: World) -> None:
    room = await chat_of(world)
    async with world.uow() as uow:
        await uow.rooms.save(replace(room, status=RoomStatus.ARCHIVED))
        await uow.commit()
    await deliver(world, a_file(room, world=world))
    assert world.media.downloads == [] and "archived" in world.sender.sent[0].text


async def test_context_lists_the_staged_files(world: World) -> None:
    room = await chat_of(world)
    await deliver(world, a_file(room, 1, "a.pdf", world=world))
    await deliver(world, a_file(room, 2, "b `tick`.txt", world=world))
    await deliver(world, text(room, "!context"))
    assert "staged files: `a.pdf`, `b 'tick'.txt`" in world.sender.sent[-1].text


async def test_context_says_none_without_staged_files(world: World) -> None:
    room = await chat_of(world)
    await deliver(world, text(room, "!context"))
    assert "staged files: none" in world.sender.sent[-1].text


async def test_staged_files_stay_when_the_agent_fails() -> None:
    world = build_world(platform=ScriptedPlatform(events=[AgentFailed(message="down")]))
    room = await chat_of(world)
    await deliver(world, a_file(room, world=world))
    await deliver(world, text(room, "read it"))
    async with world.uow() as uow:
        assert len(await uow.staged_files.for_room(room.room_id)) == 1


# -- outgoing ------------------------------------------------------------------------------------


def emitting(*paths: str, answer: str = "here you go") -> ScriptedPlatform:
    return ScriptedPlatform(events=[TextDelta(text=answer), *(FileEmitted(workspace_path=p) for p in paths), Done()])


async def test_an_emitted_file_is_uploaded_and_posted_as_a_reply_after_the_text() -> None:
    world = build_world(platform=emitting("out/chart.png", "out/data.csv"))
    world.workspace.files |= {"out/chart.png": b"png-bytes", "out/data.csv": b"a,b\n1,2\n"}
    world.workspace.images["out/chart.png"] = (640, 480)
    room = await chat_of(world)
    message = text(room, "plot it")

    await deliver(world, message)

    answer, chart, data = world.sender.sent
    assert answer.text == "here you go" and answer.reply_to == message.event_id
    assert chart.file is not None and chart.file.is_image and (chart.file.width, chart.file.height) == (640, 480)
    assert data.file is not None and not data.file.is_image and data.file.mime_type == "text/csv"
    assert [chart.txn_id, data.txn_id] == [f"file-{message.event_id}-1", f"file-{message.event_id}-2"]
    assert {chart.reply_to, data.reply_to} == {message.event_id}
    assert world.media.uploads == [b"png-bytes", b"a,b\n1,2\n"]


async def test_a_file_for_an_encrypted_room_is_uploaded_for_it_and_posted_with_its_key() -> None:
    world = build_world(platform=emitting("out/a.txt"))
    world.workspace.files["out/a.txt"] = b"secret"
    room = await chat_of(world)
    world.media.encrypted_rooms.add(room.room_id)
    await deliver(world, text(room, "write it"))
    (posted,) = [sent for sent in world.sender.sent if sent.file is not None]
    assert world.media.upload_rooms == [room.room_id]
    assert posted.media is not None and posted.media.key is not None and posted.media.url == posted.text


async def test_a_retried_answer_posts_its_files_once() -> None:
    world = build_world(platform=emitting("out/a.txt"))
    world.workspace.files["out/a.txt"] = b"a"
    room = await chat_of(world)
    message = text(room, "again")
    # Never recorded as done, as when the bot crashed after posting: the second run posts again.
    await world.handle.execute(message)
    await world.handle.execute(message)
    assert len(world.platform.requests) == 2
    assert len(world.sender.files_in(room.room_id)) == 1  # the same transaction id: one event


async def test_an_answer_of_only_files_has_no_empty_answer_placeholder() -> None:
    world = build_world(platform=emitting("out/a.txt", answer=""))
    world.workspace.files["out/a.txt"] = b"a"
    room = await chat_of(world)
    await deliver(world, text(room, "just the file"))
    assert world.sender.texts_in(room.room_id) == [] and len(world.sender.files_in(room.room_id)) == 1


@pytest.mark.parametrize(
    ("reason", "says"),
    [
        (Refusal.ABSOLUTE, "absolute paths are not allowed"),
        (Refusal.CLIMBS, "may not contain `..`"),
        (Refusal.ESCAPES, "outside the shared workspace"),
        (Refusal.MISSING, "no such file"),
        (Refusal.NOT_REGULAR, "not a regular file"),
        (Refusal.INVALID, "empty or malformed"),
    ],
)
async def test_a_refused_agent_path_gets_a_notice_saying_why(reason: Refusal, says: str) -> None:
    world = build_world(platform=emitting("/etc/passwd"))
    world.workspace.refused["/etc/passwd"] = reason
    room = await chat_of(world)
    message = text(room, "send it")
    await deliver(world, message)
    notice = world.sender.sent[-1]
    assert notice.notice and notice.reply_to == message.event_id and notice.txn_id == f"file-{message.event_id}-1"
    assert "`/etc/passwd`" in notice.text and says in notice.text
    assert world.media.uploads == [] and world.sender.files_in(room.room_id) == []


async def test_an_agent_file_over_the_limit_is_not_uploaded() -> None:
    world = build_world(platform=emitting("big.bin"))
    world.workspace.files["big.bin"] = b"x" * (MAX_BYTES + 1)
    room = await chat_of(world)
    await deliver(world, text(room, "big one"))
    assert world.media.uploads == [] and "larger than the limit" in world.sender.sent[-1].text


async def test_the_homeserver_refusing_the_size_is_a_clear_notice() -> None:
    world = build_world(platform=emitting("big.bin"))
    world.workspace.files["big.bin"] = b"x" * 500
    room = await chat_of(world)
    world.media.limit = None

    async def too_large(*_: object) -> str:
        raise MediaTooLarge("M_TOO_LARGE")

    world.media.upload = too_large  # type: ignore[method-assign]
    await deliver(world, text(room, "big one"))
    assert "larger than the limit" in world.sender.sent[-1].text


async def test_a_failed_upload_is_a_notice_and_the_message_is_still_answered() -> None:
    world = build_world(platform=emitting("a.txt"))
    world.workspace.files["a.txt"] = b"a"
    world.media.failing = True
    room = await chat_of(world)
    message = text(room, "send it")
    await deliver(world, message)
    assert "could not be uploaded" in world.sender.sent[-1].text and await done(world, message.event_id)


async def test_an_image_over_a_vision_agents_limit_gets_a_notice_and_still_goes_as_a_path() -> None:
    from dataclasses import replace

    from domain.catalog import Catalog
    from domain.model.agents import AgentDirectory, AgentSpec
    from domain.model.attachment import Attachment
    from domain.model.ids import AgentId
    from domain.services.answer_message import AnswerMessage
    from tests.unit.domain.test_handle_message import chat_of, record, text

    world = build_world()
    room = await chat_of(world)
    agent = AgentId(room.context.agent_id)
    seer = AgentDirectory(agents=(AgentSpec(agent_id=agent, adapter="openai", max_image_bytes=100),), default=agent)
    answer = AnswerMessage(world.uow, world.platform, world.sender, Catalog("en"), agents=seer)
    message = text(room, "look")
    await record(world, message)
    small = Attachment(kind="image", filename="s.png", mime_type="image/png", size=100, workspace_path="in/s.png")

    await answer.execute(message, room, (small, replace(small, filename="big.png", size=101)))

    notice, reply = world.sender.sent
    assert notice.notice and notice.text.startswith("big.png is larger than the 100 bytes")
    assert not reply.notice and len(world.platform.requests[-1].attachments) == 2
