"""Issue 16, acceptance 3, 4 and 6: the bot's device across SIGTERM, kill -9 and a lost data directory, and room
keys that come late or never (held back by a proxy between the bot and Synapse), with an encrypting client."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator

import pytest

from tests.e2e.conftest import BotStarter, BotUnderTest, NewJsUser
from tests.e2e.encryption_helpers import (
    KEY_WAIT_S,
    NOT_READ,
    WAIT,
    admin_token,
    ask_js,
    assert_nothing_plaintext_from,
    devices_of,
    devices_with_keys,
    keys_of,
    log_records,
    onboard_js,
    replies,
    signed_by_self_signing_key,
)
from tests.e2e.harness.homeserver import Homeserver
from tests.e2e.harness.js_user import JsUser
from tests.e2e.harness.sync_proxy import SyncProxy


async def test_sigterm_and_kill_keep_one_device_and_answer_what_was_sent_meanwhile_once(
    start_encrypted_bot: BotStarter, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    bot = start_encrypted_bot(SURFACES_ROOM_KEY_WAIT_S=KEY_WAIT_S)
    admin = await admin_token(encrypting_synapse)
    user = await new_js_user()
    _, _, chat = await onboard_js(encrypting_synapse.url, user, bot)
    await ask_js(user, bot, chat, "before")
    (device,) = await devices_with_keys(encrypting_synapse.url, user, bot.user_id)
    account_devices = await devices_of(encrypting_synapse, admin, bot.user_id)

    sent_while_down = []
    for stop, text in ((bot.process.stop, "sent while stopped"), (bot.process.kill, "sent while killed")):
        stop()
        sent = await user.send_text(chat, text)
        sent_while_down.append(sent)
        bot.process.start()
        await asyncio.to_thread(bot.process.wait_ready)
        answer = await user.wait_for(chat, sender=bot.user_id, reply_to=sent, timeout=WAIT)
        assert answer["content"]["body"] == text and answer["encrypted"]
        assert await devices_with_keys(encrypting_synapse.url, user, bot.user_id) == [device]
        assert await devices_of(encrypting_synapse, admin, bot.user_id) == account_devices

    await ask_js(user, bot, chat, "after both restarts")  # anything answered twice would be in by now
    events = await user.events(chat)
    for sent in sent_while_down:
        assert len(replies(events, bot.user_id, sent)) == 1, replies(events, bot.user_id, sent)
    await assert_nothing_plaintext_from(encrypting_synapse.url, user, chat, bot.user_id)


async def test_a_lost_data_directory_means_one_log_line_a_new_device_the_old_one_deleted(
    start_encrypted_bot: BotStarter, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    bot = start_encrypted_bot(SURFACES_ROOM_KEY_WAIT_S=KEY_WAIT_S)
    admin = await admin_token(encrypting_synapse)
    user = await new_js_user()
    _, _, chat = await onboard_js(encrypting_synapse.url, user, bot)
    await ask_js(user, bot, chat, "before the loss")
    (old,) = await devices_with_keys(encrypting_synapse.url, user, bot.user_id)
    account_devices = await devices_of(encrypting_synapse, admin, bot.user_id)

    bot.process.stop()
    shutil.rmtree(bot.data_dir)
    bot.process.start()
    await asyncio.to_thread(bot.process.wait_ready)

    (line,) = log_records(bot.process.log_path, "device_replaced")
    new = line["new_device_id"]
    assert line["old_device_id"] == old and new not in ("", old), line
    assert await devices_with_keys(encrypting_synapse.url, user, bot.user_id) == [new]
    assert await devices_of(encrypting_synapse, admin, bot.user_id) == sorted({*account_devices, new} - {old})
    answer = await ask_js(user, bot, chat, "after the loss")
    assert answer["content"]["body"] == "after the loss" and not answer["decryption_failed"]
    # Clients that exclude insecure devices (MSC4153) need the new device cross-signed too.
    assert signed_by_self_signing_key(await keys_of(encrypting_synapse.url, user, bot.user_id), bot.user_id, new)


@pytest.fixture
async def proxy(encrypting_synapse: Homeserver) -> AsyncIterator[SyncProxy]:
    """Between the bot and Synapse: holds the bot's encrypted to-device events (its room keys) on demand."""
    proxy = SyncProxy(encrypting_synapse.url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


async def _proxied_chat(
    start: BotStarter, proxy: SyncProxy, new_js_user: NewJsUser, server: Homeserver, key_wait_s: str
) -> tuple[BotUnderTest, JsUser, str]:
    # In a thread: the proxy serves the bot from this event loop while the starter waits for /ready.
    bot = await asyncio.to_thread(start, SURFACES_HOMESERVER_URL=proxy.url, SURFACES_ROOM_KEY_WAIT_S=key_wait_s)
    user = await new_js_user()
    _, _, chat = await onboard_js(server.url, user, bot)
    await ask_js(user, bot, chat, "keys flow")  # sessions both ways are set up before anything is held
    return bot, user, chat


async def _send_with_key_held(proxy: SyncProxy, user: JsUser, chat: str, text: str) -> str:
    """A message under a new Megolm session, whose key (a to-device event) the proxy keeps from the bot."""
    proxy.hold()
    await user.discard_session(chat)
    sent = await user.send_text(chat, text)
    async with asyncio.timeout(WAIT):
        while not proxy.held:
            await asyncio.sleep(0.1)
    return sent


async def test_a_message_whose_key_never_arrives_gets_exactly_one_notice(
    start_encrypted_bot: BotStarter, proxy: SyncProxy, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    bot, user, chat = await _proxied_chat(start_encrypted_bot, proxy, new_js_user, encrypting_synapse, KEY_WAIT_S)
    sent = await _send_with_key_held(proxy, user, chat, "you will never read this")

    notice = await user.wait_for(chat, sender=bot.user_id, reply_to=sent, timeout=WAIT)
    assert NOT_READ in notice["content"]["body"] and notice["encrypted"], notice
    proxy.drop_held()
    proxy.release()
    await user.discard_session(chat)  # a new session whose key is not held
    await ask_js(user, bot, chat, "and this one?")
    assert len(replies(await user.events(chat), bot.user_id, sent)) == 1


async def test_a_key_that_comes_after_the_notice_never_gets_a_second_answer(
    start_encrypted_bot: BotStarter, proxy: SyncProxy, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    bot, user, chat = await _proxied_chat(start_encrypted_bot, proxy, new_js_user, encrypting_synapse, KEY_WAIT_S)
    sent = await _send_with_key_held(proxy, user, chat, "read too late")

    notice = await user.wait_for(chat, sender=bot.user_id, reply_to=sent, timeout=WAIT)
    assert NOT_READ in notice["content"]["body"]
    proxy.release()  # the key arrives now, after the notice
    await ask_js(user, bot, chat, "same session, key known now")
    await asyncio.sleep(3)  # room for a wrong second answer to show up; nothing is timed
    (only,) = replies(await user.events(chat), bot.user_id, sent)
    assert only["event_id"] == notice["event_id"]


async def test_a_key_that_arrives_within_the_wait_gets_a_normal_answer(
    start_encrypted_bot: BotStarter, proxy: SyncProxy, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    bot, user, chat = await _proxied_chat(start_encrypted_bot, proxy, new_js_user, encrypting_synapse, "60")
    sent = await _send_with_key_held(proxy, user, chat, "read a little late")
    await asyncio.sleep(2)  # the bot has the message and no key for it
    proxy.release()

    answer = await user.wait_for(chat, sender=bot.user_id, reply_to=sent, timeout=WAIT)
    assert answer["content"]["body"] == "read a little late"
    await ask_js(user, bot, chat, "next")
    assert len(replies(await user.events(chat), bot.user_id, sent)) == 1
