"""SPEC §2.1: a person invites the bot and gets exactly one Space with "Chat 1"."""

from tests.e2e.conftest import BotUnderTest, NewUser
from tests.e2e.helpers import bot_message_in, onboard, replies_to, state_of


async def test_invite_creates_one_space_with_chat_1(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    dm, space, chat = await onboard(user, bot)
    server = bot.user_id.split(":", 1)[1]

    space_state = await user.room_state(space)
    assert (state_of(space_state, "dev.surfaces.space") or {})["content"] == {"owner": user.user_id, "version": 1}
    assert (state_of(space_state, "m.room.join_rules") or {})["content"]["join_rule"] == "invite"
    assert (state_of(space_state, "m.room.name") or {})["content"]["name"].startswith("Lambda — ")
    child = state_of(space_state, "m.space.child", chat)
    assert child is not None and child["content"]["via"] == [server]

    chat_state = await user.room_state(chat)
    assert (state_of(chat_state, "m.room.name") or {})["content"]["name"] == "Chat 1"
    parent = state_of(chat_state, "m.space.parent", space)
    assert parent is not None and parent["content"] == {"via": [server], "canonical": True}
    surfaces = (state_of(chat_state, "dev.surfaces.room") or {})["content"]
    assert surfaces["owner"] == user.user_id and surfaces["space_id"] == space
    assert surfaces["chat_id"] == "C1" and surfaces["agent_id"] == "echo"
    assert surfaces["status"] == "active" and surfaces["version"] == 1
    assert surfaces["platform_chat_id"].startswith("pc-")

    hierarchy = await user.hierarchy(space)
    assert chat in {room["room_id"] for room in hierarchy["rooms"]}

    pointer = await user.wait_for(bot_message_in(dm, bot), 5)
    assert space.replace("!", "%21").split(":")[0] in pointer["content"]["body"]
    welcome = await user.wait_for(bot_message_in(chat, bot), 10)
    assert "!help" in welcome["content"]["body"]


async def test_second_invite_points_to_the_existing_space(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, space, _ = await onboard(user, bot)

    other = await user.create_dm(bot.user_id)
    answer = await user.wait_for(bot_message_in(other, bot), 30)
    assert "already" in answer["content"]["body"]
    assert space.replace("!", "%21").split(":")[0] in answer["content"]["body"]
    await user.sync_once(1000)
    assert await user.invites_pending() == [], "a second Space or room was offered"
    assert len((await user.hierarchy(space))["rooms"]) == 2  # the Space itself and Chat 1


async def test_hello_gets_one_rendered_reply(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)

    hello = await user.send_text(chat, "hello")
    reply = await user.wait_for(lambda room, e: room == chat and replies_to(e, hello), 30)
    assert reply["sender"] == bot.user_id
    assert reply["content"]["body"] == "hello"
    assert "formatted_body" in reply["content"]

    hostile = '**bold** <script>alert(1)</script><b onclick="x()">hi</b> [x](javascript:alert(1))'
    asked = await user.send_text(chat, hostile)
    rendered = (await user.wait_for(lambda room, e: room == chat and replies_to(e, asked), 30))["content"]
    html = rendered["formatted_body"]
    assert "<strong>bold</strong>" in html
    assert "<b>hi</b>" in html
    # The javascript: link stays visible as literal text, but never becomes a link.
    assert "<script" not in html and "onclick" not in html and 'href="javascript' not in html.lower()

    await user.sync_once(1500)
    answers = [e for room, e in user.events if room == chat and replies_to(e, hello)]
    assert len(answers) == 1, "hello was answered more than once"
