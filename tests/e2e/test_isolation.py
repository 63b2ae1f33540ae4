"""SPEC §2.3 and §3: each room is its own upstream conversation; `!clear`, `!save` and `!load` touch
only the room they are typed in.

That `!clear` disconnects only the old id of the cleared room (and no other) is checked by the unit
tests of the command, against a recording platform fake; here the echo agent's `!!history` shows it.
"""

from tests.e2e.conftest import BotUnderTest, NewUser
from tests.e2e.harness import MatrixUser
from tests.e2e.helpers import ask, body, db_rows, history_lines, new_chat, onboard, room_row, surfaces_room


async def _talk(user: MatrixUser, bot: BotUnderTest, room_id: str, *texts: str) -> None:
    for text in texts:
        assert body(await ask(user, bot, room_id, text)) == text


async def _history(user: MatrixUser, bot: BotUnderTest, room_id: str) -> str:
    return body(await ask(user, bot, room_id, "!!history"))


async def test_two_rooms_have_separate_contexts(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, room_a = await onboard(user, bot)
    room_b = await new_chat(user, bot, room_a)

    await _talk(user, bot, room_a, "a one", "a two")
    await _talk(user, bot, room_b, "b one")

    id_a = (await surfaces_room(user, room_a))["platform_chat_id"]
    id_b = (await surfaces_room(user, room_b))["platform_chat_id"]
    assert id_a != id_b
    assert room_row(bot, room_a)["platform_chat_id"] == id_a
    assert room_row(bot, room_b)["platform_chat_id"] == id_b
    assert await _history(user, bot, room_a) == history_lines("a one", "a two")
    assert await _history(user, bot, room_b) == history_lines("b one")


async def test_clear_resets_only_its_own_room(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, room_a = await onboard(user, bot)
    room_b = await new_chat(user, bot, room_a)
    await _talk(user, bot, room_a, "a one")
    await _talk(user, bot, room_b, "b one", "b two")
    old_a = await surfaces_room(user, room_a)
    old_b = await surfaces_room(user, room_b)
    old_b_row = room_row(bot, room_b)

    await ask(user, bot, room_a, "!clear")

    new_a = await surfaces_room(user, room_a)
    assert new_a["platform_chat_id"] != old_a["platform_chat_id"]
    assert {**new_a, "platform_chat_id": None} == {**old_a, "platform_chat_id": None}, "!clear changed more"
    assert room_row(bot, room_a)["platform_chat_id"] == new_a["platform_chat_id"]
    assert await surfaces_room(user, room_b) == old_b
    assert room_row(bot, room_b) == old_b_row
    assert await _history(user, bot, room_a) == history_lines()
    assert await _history(user, bot, room_b) == history_lines("b one", "b two")
    # The cleared room goes on under its new id.
    await _talk(user, bot, room_a, "a again")
    assert await _history(user, bot, room_a) == history_lines("a again")


async def test_load_seeds_another_room_from_a_saved_snapshot(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, room_a = await onboard(user, bot)
    room_b = await new_chat(user, bot, room_a)
    await _talk(user, bot, room_a, "alpha", "beta")
    await _talk(user, bot, room_b, "gamma")
    a_before = await surfaces_room(user, room_a)
    b_before = await surfaces_room(user, room_b)

    await ask(user, bot, room_a, "!save x")
    assert [row["label"] for row in db_rows(bot, "SELECT label FROM snapshots WHERE owner = ?", user.user_id)] == ["x"]
    await ask(user, bot, room_b, "!load x")

    b_after = await surfaces_room(user, room_b)
    assert b_after["platform_chat_id"] not in (b_before["platform_chat_id"], a_before["platform_chat_id"])
    assert room_row(bot, room_b)["platform_chat_id"] == b_after["platform_chat_id"]
    assert await _history(user, bot, room_b) == history_lines("alpha", "beta")
    assert await surfaces_room(user, room_a) == a_before
    assert room_row(bot, room_a)["platform_chat_id"] == a_before["platform_chat_id"]
    assert await _history(user, bot, room_a) == history_lines("alpha", "beta")
    # The two rooms now go their own ways.
    await _talk(user, bot, room_b, "delta")
    assert await _history(user, bot, room_a) == history_lines("alpha", "beta")


async def test_save_with_an_agent_that_cannot_says_so_and_stores_nothing(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    await ask(user, bot, chat, "!agent echo-nosave")
    await _talk(user, bot, chat, "something to keep")

    answer = body(await ask(user, bot, chat, "!save keep"))

    assert "cannot" in answer and "echo-nosave" in answer and "\n" not in answer
    assert db_rows(bot, "SELECT * FROM snapshots WHERE owner = ?", user.user_id) == []
