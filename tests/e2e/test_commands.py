"""SPEC §2.3: every chat command does what it says, visibly in Matrix state and in the database;
bad arguments and unknown commands change nothing."""

import re

from tests.e2e.conftest import BotUnderTest, NewUser
from tests.e2e.harness import MatrixUser
from tests.e2e.helpers import (
    ROOM_STATE,
    ask,
    body,
    db_rows,
    eventually,
    history_lines,
    link_to,
    new_chat,
    onboard,
    owner_rows,
    reply_from,
    room_name,
    room_row,
    state_map,
    surfaces_room,
)

COMMANDS = [
    "!help",
    "!new",
    "!list",
    "!rename",
    "!archive",
    "!restore",
    "!clear",
    "!save",
    "!load",
    "!context",
    "!agent",
]


async def _in_hierarchy(user: MatrixUser, space: str) -> set[str]:
    return {room["room_id"] for room in (await user.hierarchy(space))["rooms"]}


async def test_new_creates_a_room_in_the_space_with_a_fresh_context(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    dm, space, chat = await onboard(user, bot)
    server = bot.user_id.split(":", 1)[1]
    first = await surfaces_room(user, chat)

    second = await new_chat(user, bot, chat)  # in a chat room, no name
    third = await new_chat(user, bot, dm, "Research notes")  # in the lobby, with a name

    assert await room_name(user, second) == "Chat 2"
    assert await room_name(user, third) == "Research notes"
    space_state = await state_map(user, space)
    seen_ids = {first["platform_chat_id"]}
    for number, room_id in ((2, second), (3, third)):
        assert space_state[("m.space.child", room_id)] == {"via": [server]}
        room_state = await state_map(user, room_id)
        assert room_state[("m.space.parent", space)] == {"via": [server], "canonical": True}
        surfaces = room_state[(ROOM_STATE, "")]
        assert surfaces["owner"] == user.user_id and surfaces["space_id"] == space
        assert surfaces["chat_id"] == f"C{number}" and surfaces["agent_id"] == "echo"
        assert surfaces["status"] == "active"
        assert surfaces["platform_chat_id"] not in seen_ids, "a new room reused a platform_chat_id"
        seen_ids.add(surfaces["platform_chat_id"])

        row = room_row(bot, room_id)
        assert row["owner"] == user.user_id and row["space_id"] == space and row["chat_number"] == number
        assert row["platform_chat_id"] == surfaces["platform_chat_id"]
        assert row["agent_id"] == "echo" and row["status"] == "active"
    assert {second, third} <= await _in_hierarchy(user, space)
    assert room_row(bot, third)["name"] == "Research notes"

    answer = await ask(user, bot, second, "hello second")
    assert body(answer) == "hello second", "the new room is not answered by its agent"


async def test_rename_sets_the_room_name_and_the_index(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)

    await ask(user, bot, chat, "!rename Trip to Lisbon")

    assert await room_name(user, chat) == "Trip to Lisbon"
    assert room_row(bot, chat)["name"] == "Trip to Lisbon"


async def test_a_rename_made_in_the_client_reaches_the_index(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)

    await user.put_state(chat, "m.room.name", {"name": "Renamed in Element"})

    await eventually(lambda: room_row(bot, chat)["name"] == "Renamed in Element", what="the index follows the name")


async def test_first_exchange_gives_a_chat_n_room_a_title(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)

    await ask(user, bot, chat, "Plan a weekend in Porto\nwith trains only")

    title = await eventually(
        lambda: (name := room_row(bot, chat)["name"]) != "Chat 1" and name, what="an automatic title"
    )
    assert title == "Plan a weekend in Porto"
    assert await room_name(user, chat) == title


async def test_archive_unlinks_the_room_and_later_messages_get_one_notice(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, space, chat = await onboard(user, bot)
    await ask(user, bot, chat, "!rename Old project")  # no automatic title can race the checks below

    await ask(user, bot, chat, "!archive")

    assert (await state_map(user, space))[("m.space.child", chat)] == {}
    assert chat not in await _in_hierarchy(user, space)
    assert (await surfaces_room(user, chat))["status"] == "archived"
    assert room_row(bot, chat)["status"] == "archived"

    notice = await ask(user, bot, chat, "anyone there?")
    assert "!restore" in body(notice)
    unanswered = await user.send_text(chat, "still there?")
    await ask(user, bot, chat, "!context")  # handled after "still there?": the bot is past it
    await user.sync_once(500)
    assert not [e for room, e in user.events if reply_from(bot, chat, unanswered)(room, e)], "a second notice"
    assert room_row(bot, chat)["status"] == "archived"


async def test_restore_brings_the_room_back_with_its_history(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, space, chat = await onboard(user, bot)
    server = bot.user_id.split(":", 1)[1]
    await ask(user, bot, chat, "before one")
    await ask(user, bot, chat, "before two")
    before = await surfaces_room(user, chat)
    await ask(user, bot, chat, "!archive")

    await ask(user, bot, chat, "!restore")

    assert (await state_map(user, space))[("m.space.child", chat)] == {"via": [server]}
    assert chat in await _in_hierarchy(user, space)
    after = await surfaces_room(user, chat)
    assert after["status"] == "active"
    assert after["platform_chat_id"] != before["platform_chat_id"], "restore reused the old upstream chat"
    row = room_row(bot, chat)
    assert row["status"] == "active" and row["platform_chat_id"] == after["platform_chat_id"]
    assert body(await ask(user, bot, chat, "!!history")) == history_lines("before one", "before two")
    assert body(await ask(user, bot, chat, "after")) == "after"


async def test_list_links_every_chat(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    dm, _, chat = await onboard(user, bot)
    second = await new_chat(user, bot, chat, "Second thoughts")

    for room in (chat, dm):  # in a chat room and in the lobby
        listed = body(await ask(user, bot, room, "!list"))
        assert link_to(chat) in listed and link_to(second) in listed
        assert "Chat 1" in listed and "Second thoughts" in listed


async def test_context_shows_the_agent_platform_chat_id_and_message_count(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    await ask(user, bot, chat, "one")
    await ask(user, bot, chat, "two")

    shown = body(await ask(user, bot, chat, "!context"))

    platform_chat_id = (await surfaces_room(user, chat))["platform_chat_id"]
    assert platform_chat_id in shown
    assert "echo" in shown
    assert re.search(r"(?<![\w-])2(?![\w-])", shown.replace(platform_chat_id, "")), f"no count 2 in {shown!r}"
    row = room_row(bot, chat)
    assert row["message_count"] == 2 and row["platform_chat_id"] == platform_chat_id


async def test_agent_lists_the_registry_and_switches_with_a_fresh_context(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    before = await surfaces_room(user, chat)

    listed = body(await ask(user, bot, chat, "!agent"))
    for agent_id in ("echo", "echo-2", "echo-nosave"):
        assert f"`{agent_id}`" in listed, f"{agent_id} missing from {listed!r}"

    await ask(user, bot, chat, "!agent echo-2")

    after = await surfaces_room(user, chat)
    assert after["agent_id"] == "echo-2"
    assert after["platform_chat_id"] != before["platform_chat_id"]
    row = room_row(bot, chat)
    assert row["agent_id"] == "echo-2" and row["platform_chat_id"] == after["platform_chat_id"]
    assert body(await ask(user, bot, chat, "still echoing?")) == "still echoing?"


async def test_help_lists_every_command(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    dm, _, chat = await onboard(user, bot)

    for room in (chat, dm):
        answer = await ask(user, bot, room, "!help")
        for command in COMMANDS:
            assert command in body(answer), f"{command} missing from help in {room}"
        assert "formatted_body" in answer["content"]


async def test_bad_arguments_and_unknown_commands_get_one_line_and_change_nothing(
    bot: BotUnderTest, new_user: NewUser
) -> None:
    user = await new_user()
    dm, space, chat = await onboard(user, bot)
    await ask(user, bot, chat, "!save kept")  # one snapshot, so a bad !load has something to miss
    rooms = (dm, space, chat)
    before_state = {room: await state_map(user, room) for room in rooms}
    before_db = owner_rows(bot, user.user_id)

    problems: list[str] = []
    for command in (
        "!frobnicate",
        "!load",
        "!load nope",
        "!agent nosuch",
        "!agent echo",  # already this room's agent
        "!rename",
        "!rename    ",
        "!save a/b",
        "!restore",  # the room is not archived
    ):
        answer = body(await ask(user, bot, chat, command))
        if "\n" in answer or "!help" not in answer:
            problems.append(f"{command} answered {answer!r}")
        for room in rooms:
            if await state_map(user, room) != before_state[room]:
                problems.append(f"{command} changed the state of {room}")
        if owner_rows(bot, user.user_id) != before_db:
            problems.append(f"{command} changed the database: {owner_rows(bot, user.user_id)}")
    for command in ("!clear", "!archive", "!frobnicate"):  # not in the lobby
        answer = body(await ask(user, bot, dm, command))
        if "\n" in answer or "!help" not in answer:
            problems.append(f"{command} in the lobby answered {answer!r}")
    assert owner_rows(bot, user.user_id) == before_db
    assert problems == []
    assert len(db_rows(bot, "SELECT * FROM snapshots WHERE owner = ?", user.user_id)) == 1
