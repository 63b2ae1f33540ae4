import itertools

from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText, RoomRenamed
from domain.model.room import ChatRoom, RoomStatus
from tests.unit.domain.conftest import World, build_world
from tests.unit.fakes.network import ScriptedPlatform

ALICE = UserId("@alice:example.org")
DM = RoomId("!dm:example.org")
_ids = itertools.count(1)


async def onboarded(world: World) -> ChatRoom:
    result = await world.onboard.execute(ALICE, DM)
    assert result.first_room is not None
    world.sender.sent.clear()
    return result.first_room


async def say(world: World, room_id: RoomId, body: str, sender: UserId = ALICE) -> str:
    """Sends one message through the whole router; returns the text of the answer it got."""
    before = len(world.sender.sent)
    message = IncomingText(event_id=EventId(f"$c{next(_ids)}"), room_id=room_id, sender=sender, body=body)
    await world.handle.execute(message)
    answers = world.sender.sent[before:]
    assert len(answers) <= 1, "one message got several answers"
    return answers[0].text if answers else ""


async def stored(world: World, room_id: RoomId) -> ChatRoom:
    async with world.uow() as uow:
        room = await uow.rooms.get(room_id)
    assert room is not None
    return room


async def test_new_creates_the_next_chat_in_the_space(world: World) -> None:
    first = await onboarded(world)
    answer = await say(world, first.room_id, "!new")
    assert "Chat 2" in answer and "matrix.to" in answer
    async with world.uow() as uow:
        rooms = await uow.rooms.for_owner(ALICE)
    assert [r.name for r in rooms] == ["Chat 1", "Chat 2"]
    assert rooms[0].context.platform_chat_id != rooms[1].context.platform_chat_id
    assert world.topology.children[first.space_id] == [r.room_id for r in rooms]


async def test_new_with_a_name_works_from_the_lobby_too(world: World) -> None:
    await onboarded(world)
    assert "Research" in await say(world, DM, "!new Research")
    async with world.uow() as uow:
        names = [r.name for r in await uow.rooms.for_owner(ALICE)]
    assert names == ["Chat 1", "Research"]


async def test_clear_rotates_only_this_room(world: World) -> None:
    a = await onboarded(world)
    await say(world, a.room_id, "!new")
    async with world.uow() as uow:
        b = (await uow.rooms.for_owner(ALICE))[1]

    await say(world, a.room_id, "!clear")

    a_after, b_after = await stored(world, a.room_id), await stored(world, b.room_id)
    assert a_after.context.platform_chat_id != a.context.platform_chat_id
    assert b_after.context == b.context
    assert world.platform.disconnected == [a.context.platform_chat_id]
    assert world.topology.room_state[a.room_id].context == a_after.context
    assert b.room_id not in world.topology.room_state


async def test_save_in_one_room_and_load_in_another_seeds_a_new_id(world: World) -> None:
    a = await onboarded(world)
    await say(world, a.room_id, "remember the alamo")
    await say(world, a.room_id, "!new")
    async with world.uow() as uow:
        b = (await uow.rooms.for_owner(ALICE))[1]

    assert "x" in await say(world, a.room_id, "!save x")
    assert "x" in await say(world, b.room_id, "!load x")

    b_after = await stored(world, b.room_id)
    assert b_after.context.platform_chat_id not in (b.context.platform_chat_id, a.context.platform_chat_id)
    assert world.platform.histories[b_after.context.platform_chat_id] == ["remember the alamo"]
    assert (await stored(world, a.room_id)).context == a.context
    assert b_after.message_count == 1


async def test_load_of_an_unknown_label_changes_nothing(world: World) -> None:
    a = await onboarded(world)
    answer = await say(world, a.room_id, "!load nope")
    assert "nope" in answer and "!help" in answer and "\n" not in answer
    assert (await stored(world, a.room_id)).context == a.context


async def test_an_agent_without_context_transfer_says_so_and_changes_nothing() -> None:
    world = build_world(platform=ScriptedPlatform(context_transfer=False))
    a = await onboarded(world)
    assert "cannot save or load" in await say(world, a.room_id, "!save x")
    async with world.uow() as uow:
        assert await uow.snapshots.for_owner(ALICE) == []


async def test_bad_labels_are_refused(world: World) -> None:
    a = await onboarded(world)
    for bad in ("!save a/b", "!save " + "x" * 65, "!load", "!load ../x"):
        answer = await say(world, a.room_id, bad)
        assert "!help" in answer and "\n" not in answer, bad


async def test_context_shows_agent_id_count_and_snapshots(world: World) -> None:
    a = await onboarded(world)
    await say(world, a.room_id, "hi")
    await say(world, a.room_id, "!save mine")
    answer = await say(world, a.room_id, "!context")
    assert "echo" in answer and a.context.platform_chat_id in answer
    assert "messages: 1" in answer and "`mine`" in answer


async def test_agent_lists_and_switches_with_a_fresh_context(world: World) -> None:
    a = await onboarded(world)
    listing = await say(world, a.room_id, "!agent")
    assert "`echo` ✓" in listing and "`other`" in listing
    await say(world, a.room_id, "!agent other")
    after = await stored(world, a.room_id)
    assert after.context.agent_id == "other" and after.context.platform_chat_id != a.context.platform_chat_id
    assert "!help" in await say(world, a.room_id, "!agent nosuch")
    assert (await stored(world, a.room_id)).context == after.context


async def test_rename_sets_the_name_and_a_client_rename_is_picked_up(world: World) -> None:
    a = await onboarded(world)
    await say(world, a.room_id, "!rename Taxes 2026")
    assert world.topology.room_names[a.room_id] == "Taxes 2026"
    assert (await stored(world, a.room_id)).name == "Taxes 2026"
    assert "!help" in await say(world, a.room_id, "!rename")

    await world.events.execute(RoomRenamed(event_id=EventId("$n"), room_id=a.room_id, sender=ALICE, name="Mine"))
    assert (await stored(world, a.room_id)).name == "Mine"


async def test_archive_unlinks_and_later_messages_get_one_notice(world: World) -> None:
    a = await onboarded(world)
    await say(world, a.room_id, "!archive")
    after = await stored(world, a.room_id)
    assert after.status is RoomStatus.ARCHIVED
    assert a.room_id not in world.topology.children[a.space_id]
    assert world.platform.disconnected == [a.context.platform_chat_id]

    assert "archived" in await say(world, a.room_id, "hello?")
    assert await say(world, a.room_id, "anyone?") == ""
    assert world.platform.requests == []


async def test_restore_brings_the_chat_back_with_its_context(world: World) -> None:
    a = await onboarded(world)
    await say(world, a.room_id, "keep me")
    await say(world, a.room_id, "!archive")
    await say(world, a.room_id, "!restore")
    after = await stored(world, a.room_id)
    assert after.is_active and a.room_id in world.topology.children[a.space_id]
    assert after.context.platform_chat_id != a.context.platform_chat_id
    assert world.platform.histories[after.context.platform_chat_id] == ["keep me"]


async def test_first_exchange_titles_a_room_still_called_chat_n(world: World) -> None:
    a = await onboarded(world)
    await say(world, a.room_id, "How do I file taxes in Portugal as a freelancer?\nmore")
    title = world.topology.room_names[a.room_id]
    assert title.startswith("How do I file taxes") and len(title) <= 41
    await say(world, a.room_id, "second question")
    assert world.topology.room_names[a.room_id] == title


async def test_chat_commands_in_the_lobby_point_to_the_chats(world: World) -> None:
    await onboarded(world)
    answer = await say(world, DM, "!clear")
    assert "!help" in answer and "chat" in answer


async def test_list_shows_every_chat_with_a_link(world: World) -> None:
    a = await onboarded(world)
    await say(world, a.room_id, "!new Second")
    answer = await say(world, DM, "!list")
    assert "Chat 1" in answer and "Second" in answer and answer.count("matrix.to") == 2
