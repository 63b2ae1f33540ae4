from domain.model.agent import AgentFailed, Done, TextDelta
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText
from domain.model.room import ChatRoom
from tests.unit.domain.conftest import World, build_world
from tests.unit.fakes.network import ScriptedPlatform

ALICE = UserId("@alice:example.org")
DM = RoomId("!dm:example.org")


async def chat_of(world: World) -> ChatRoom:
    result = await world.onboard.execute(ALICE, DM)
    assert result.first_room is not None
    world.sender.sent.clear()
    return result.first_room


def text(room: ChatRoom | RoomId, body: str, sender: UserId = ALICE, n: int = 1) -> IncomingText:
    room_id = room.room_id if isinstance(room, ChatRoom) else room
    return IncomingText(event_id=EventId(f"$e{n}"), room_id=room_id, sender=sender, body=body)


async def record(world: World, message: IncomingText) -> None:
    async with world.uow() as uow:
        await uow.inbox.record(message)
        await uow.commit()


async def test_owner_text_goes_to_the_rooms_agent_and_is_answered_as_a_reply(world: World) -> None:
    room = await chat_of(world)
    message = text(room, "hello")
    await record(world, message)

    await world.handle.execute(message)

    (request,) = world.platform.requests
    assert request.platform_chat_id == room.context.platform_chat_id and request.text == "hello"
    (reply,) = world.sender.sent
    assert reply.reply_to == message.event_id and reply.text == "ok"
    assert world.sender.typing == []  # answered at once: no typing notice to flash
    async with world.uow() as uow:
        assert await uow.inbox.is_done(message.event_id)
        stored = await uow.rooms.get(room.room_id)
    assert stored is not None and stored.message_count == 1


async def test_a_message_already_done_is_not_answered_again(world: World) -> None:
    room = await chat_of(world)
    message = text(room, "hello")
    await record(world, message)
    await world.handle.execute(message)
    await world.handle.execute(message)
    assert len(world.sender.sent) == 1 and len(world.platform.requests) == 1


async def test_streamed_deltas_are_joined_into_one_answer() -> None:
    world = build_world(platform=ScriptedPlatform(events=[TextDelta(text="a "), TextDelta(text="b"), Done()]))
    room = await chat_of(world)
    await world.handle.execute(text(room, "x"))
    assert [m.text for m in world.sender.sent] == ["a b"]


async def test_agent_failure_becomes_a_clear_notice() -> None:
    world = build_world(platform=ScriptedPlatform(events=[AgentFailed(message="boom")]))
    room = await chat_of(world)
    await world.handle.execute(text(room, "x"))
    (notice,) = world.sender.sent
    assert "boom" in notice.text


async def test_messages_from_someone_other_than_the_owner_are_ignored(world: World) -> None:
    room = await chat_of(world)
    await world.handle.execute(text(room, "hi", sender=UserId("@bob:example.org")))
    assert world.sender.sent == [] and world.platform.requests == []


async def test_help_command_lists_the_commands_without_asking_the_agent(world: World) -> None:
    room = await chat_of(world)
    await world.handle.execute(text(room, "!help"))
    (reply,) = world.sender.sent
    assert "!new" in reply.text and world.platform.requests == []


async def test_unknown_command_gets_a_one_line_error_with_the_help_hint(world: World) -> None:
    room = await chat_of(world)
    await world.handle.execute(text(room, "!frobnicate now"))
    (reply,) = world.sender.sent
    assert "!frobnicate" in reply.text and "!help" in reply.text and "\n" not in reply.text


async def test_lobby_text_points_to_the_space(world: World) -> None:
    await chat_of(world)
    await world.handle.execute(text(DM, "where are my chats?"))
    (reply,) = world.sender.sent
    assert "matrix.to" in reply.text and world.platform.requests == []


async def test_lobby_ignores_strangers(world: World) -> None:
    await world.handle.execute(text(DM, "hi", sender=UserId("@eve:evil.org")))
    assert world.sender.sent == []


def test_only_bang_and_a_letter_make_a_command() -> None:
    from domain.services.command_parser import parse_command

    assert parse_command("!new Research") is not None
    for text in ("!!history", "! new", "!1", "!", "hello !new", "!!sleep 4 slow"):
        assert parse_command(text) is None, text


async def test_a_flood_gets_one_notice_and_spares_the_agent() -> None:
    from domain.services.flood_guard import FloodGuard

    world = build_world(flood=FloodGuard(burst=2, per_second=0.001, clock=lambda: 0.0))
    room = await chat_of(world)
    for n in range(1, 7):
        await world.handle.execute(text(room, f"message {n}", n=n))
    assert len(world.platform.requests) == 2
    notices = [m for m in world.sender.sent if "faster than" in m.text]
    assert len(notices) == 1
    assert len(world.sender.sent) == 3
