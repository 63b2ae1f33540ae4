"""Threads and read receipts: a threaded question is answered in its thread; every message taken is marked read."""

from domain.model.ids import EventId, UserId
from domain.model.messages import IncomingText
from domain.model.room import ChatRoom
from domain.services.handle_room_event import HandleRoomEvent
from domain.services.record_room_name import RecordRoomName
from tests.unit.domain.conftest import World, build_world
from tests.unit.domain.test_handle_message import chat_of, record
from tests.unit.fakes.network import FakeReadReceipts, ScriptedPlatform

ALICE = UserId("@alice:example.org")
ROOT = EventId("$root")


def threaded(room: ChatRoom, body: str, n: int = 1, thread: EventId | None = ROOT) -> IncomingText:
    return IncomingText(event_id=EventId(f"$t{n}"), room_id=room.room_id, sender=ALICE, body=body, thread_root=thread)


async def test_a_threaded_question_is_answered_in_its_thread(world: World) -> None:
    room = await chat_of(world)
    message = threaded(room, "in a thread")
    await record(world, message)

    await world.handle.execute(message)

    (reply,) = world.sender.sent
    assert reply.thread == ROOT and reply.reply_to == message.event_id and reply.text == "ok"


async def test_an_unthreaded_question_is_answered_in_the_main_timeline(world: World) -> None:
    room = await chat_of(world)
    message = threaded(room, "main", thread=None)
    await record(world, message)

    await world.handle.execute(message)

    (reply,) = world.sender.sent
    assert reply.thread is None


async def test_a_command_in_a_thread_is_answered_in_the_thread(world: World) -> None:
    room = await chat_of(world)
    message = threaded(room, "!help")
    await record(world, message)

    await world.handle.execute(message)

    (reply,) = world.sender.sent
    assert reply.thread == ROOT and "!new" in reply.text


async def test_threads_share_the_rooms_conversation() -> None:
    world = build_world(platform=ScriptedPlatform())
    room = await chat_of(world)
    for n, thread in enumerate([None, ROOT, EventId("$other")], start=1):
        message = threaded(room, f"q{n}", n=n, thread=thread)
        await record(world, message)
        await world.handle.execute(message)
    assert {r.platform_chat_id for r in world.platform.requests} == {room.context.platform_chat_id}


async def test_each_message_taken_is_marked_read_before_it_is_answered() -> None:
    world = build_world()
    receipts = FakeReadReceipts()
    events = HandleRoomEvent(world.handle, RecordRoomName(world.uow), receipts)
    room = await chat_of(world)
    message = threaded(room, "hello", thread=None)
    await record(world, message)

    await events.execute(message)

    assert receipts.marked == [(room.room_id, message.event_id)]
    assert len(world.sender.sent) == 1
