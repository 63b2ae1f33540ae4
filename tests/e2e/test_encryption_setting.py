"""SURFACES_ENCRYPTION=true on a homeserver that encrypts nothing by itself: the bot creates its chat rooms
encrypted, and a person with an encrypting client (matrix-js-sdk) is answered there, encrypted."""

from __future__ import annotations

from tests.e2e.conftest import USER_PASSWORD, BotStarter
from tests.e2e.encryption_helpers import ask_js, assert_nothing_plaintext_from, onboard_js, room_is_encrypted
from tests.e2e.harness.homeserver import Homeserver
from tests.e2e.harness.js_user import JsUser


async def test_the_bot_creates_encrypted_chat_rooms_when_told_to(start_bot: BotStarter, synapse: Homeserver) -> None:
    bot = start_bot(SURFACES_ENCRYPTION="true")
    user_id = synapse.register(f"js-setting-{bot.user_id[5:13]}", USER_PASSWORD)
    user = await JsUser.login(synapse.url, user_id, USER_PASSWORD)
    try:
        dm, _, chat = await onboard_js(synapse.url, user, bot)
        assert await room_is_encrypted(synapse.url, user, chat)
        assert await room_is_encrypted(synapse.url, user, dm)  # the person's own choice
        reply = await ask_js(user, bot, chat, "hello in a room the bot encrypted")
        assert reply["encrypted"] and reply["content"]["body"] == "hello in a room the bot encrypted"
        await assert_nothing_plaintext_from(synapse.url, user, chat, bot.user_id)
    finally:
        await user.close()


async def test_without_the_setting_the_bots_rooms_stay_as_the_homeserver_makes_them(
    start_bot: BotStarter, synapse: Homeserver
) -> None:
    bot = start_bot()
    user_id = synapse.register(f"js-plain-{bot.user_id[5:13]}", USER_PASSWORD)
    user = await JsUser.login(synapse.url, user_id, USER_PASSWORD)
    try:
        dm, _, chat = await onboard_js(synapse.url, user, bot)
        assert not await room_is_encrypted(synapse.url, user, chat)  # plaintext chats: every other e2e test
        help_answer = await ask_js(user, bot, dm, "!help")  # while the person's encrypted DM stays encrypted
        assert help_answer["encrypted"] and "!new" in help_answer["content"]["body"]
    finally:
        await user.close()
