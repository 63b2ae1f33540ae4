"""Issue 16, acceptance 1, 2, 5 and 7: on a Synapse that encrypts every new room, a person whose client encrypts
(matrix-js-sdk with its Rust crypto: nobody here wrote it) is onboarded, answered, sent files and cross-signed
trust, and nothing the bot sends into an encrypted room is ever plaintext on the server."""

from __future__ import annotations

import os
import re

import pytest

from tests.e2e.conftest import BotStarter, BotUnderTest, NewJsUser
from tests.e2e.encryption_helpers import (
    KEY_WAIT_S,
    WAIT,
    ask_js,
    assert_nothing_plaintext_from,
    keys_of,
    onboard_js,
    room_is_encrypted,
    signed_by_self_signing_key,
)
from tests.e2e.harness.homeserver import Homeserver
from tests.e2e.helpers import link_to

RECEIVED = re.compile(r"^received: (.+)$", re.MULTILINE)


@pytest.fixture
def bot(start_encrypted_bot: BotStarter) -> BotUnderTest:
    return start_encrypted_bot(SURFACES_ROOM_KEY_WAIT_S=KEY_WAIT_S)


async def test_an_encrypted_dm_gets_an_encrypted_space_and_chat_and_a_reply_the_client_decrypts(
    bot: BotUnderTest, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    user = await new_js_user()
    dm, space, chat = await onboard_js(encrypting_synapse.url, user, bot)
    for room_id in (dm, space, chat):
        assert await room_is_encrypted(encrypting_synapse.url, user, room_id), room_id

    welcome = await user.wait_for(chat, sender=bot.user_id, event_type="m.room.message", timeout=WAIT)
    assert welcome["encrypted"] and "!help" in welcome["content"]["body"]
    reply = await ask_js(user, bot, chat, "hello from an encrypting client")
    assert reply["encrypted"] and not reply["decryption_failed"]
    assert reply["content"]["body"] == "hello from an encrypting client"

    for room_id in (dm, space, chat):
        await assert_nothing_plaintext_from(encrypting_synapse.url, user, room_id, bot.user_id)


async def test_help_and_list_in_the_encrypted_entry_dm_are_answered_there_encrypted(
    bot: BotUnderTest, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    user = await new_js_user()
    dm, _, chat = await onboard_js(encrypting_synapse.url, user, bot)

    help_answer = await ask_js(user, bot, dm, "!help")
    assert help_answer["encrypted"] and "!new" in help_answer["content"]["body"]
    listed = await ask_js(user, bot, dm, "!list")
    assert listed["encrypted"] and link_to(chat) in listed["content"]["body"]
    assert await assert_nothing_plaintext_from(encrypting_synapse.url, user, dm, bot.user_id) >= 3


async def test_the_bot_device_is_signed_by_its_own_self_signing_key(
    bot: BotUnderTest, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    user = await new_js_user()
    await onboard_js(encrypting_synapse.url, user, bot)
    keys = await keys_of(encrypting_synapse.url, user, bot.user_id)

    assert bot.user_id in keys.get("master_keys", {}), keys
    assert bot.user_id in keys.get("self_signing_keys", {}), keys
    (device,) = keys["device_keys"][bot.user_id]
    assert signed_by_self_signing_key(keys, bot.user_id, device), keys["device_keys"][bot.user_id][device]
    seen = await user.devices_of(bot.user_id)  # matrix-js-sdk's own verdict
    assert [(d["device_id"], d["signed_by_owner"]) for d in seen["devices"]] == [(device, True)]


async def test_a_client_that_excludes_insecure_devices_still_gets_answers(
    bot: BotUnderTest, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    user = await new_js_user()
    await user.exclude_insecure_devices()  # Element's "only cross-signed devices" (MSC4153)
    _, _, chat = await onboard_js(encrypting_synapse.url, user, bot)

    reply = await ask_js(user, bot, chat, "can you read me?")
    assert reply["content"]["body"] == "can you read me?" and not reply["decryption_failed"]


async def test_an_encrypted_file_lands_decrypted_and_byte_identical_in_the_inbox(
    bot: BotUnderTest, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    user = await new_js_user()
    _, _, chat = await onboard_js(encrypting_synapse.url, user, bot)
    data = os.urandom(150_000)

    sent = await user.send_file(chat, data, "secret report.bin", caption="what is in it?")
    reply = await user.wait_for(chat, sender=bot.user_id, reply_to=sent, timeout=WAIT)
    assert reply["encrypted"]
    (stored,) = RECEIVED.findall(reply["content"]["body"])
    assert stored.startswith("surfaces/matrix/") and "/inbox/" in stored
    assert (bot.workspace_dir / stored).read_bytes() == data


async def test_an_encrypted_file_with_a_wrong_hash_is_refused_and_leaves_nothing(
    bot: BotUnderTest, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    user = await new_js_user()
    _, _, chat = await onboard_js(encrypting_synapse.url, user, bot)

    sent = await user.send_file(chat, os.urandom(4096), "tampered.bin", caption="check me", corrupt_hash=True)
    refusal = await user.wait_for(chat, sender=bot.user_id, reply_to=sent, timeout=WAIT)
    assert refusal["encrypted"] and "received:" not in refusal["content"]["body"]
    inbox_files = [p for p in (bot.workspace_dir / "surfaces" / "matrix").rglob("*") if p.is_file()]
    assert inbox_files == [], inbox_files


async def test_an_agent_file_reaches_the_person_encrypted_with_the_same_bytes(
    bot: BotUnderTest, new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    user = await new_js_user()
    _, _, chat = await onboard_js(encrypting_synapse.url, user, bot)

    sent = await user.send_text(chat, "!!write notes.txt Secret notes, Привет.")
    posted = await user.wait_for(chat, sender=bot.user_id, msgtype="m.file", timeout=WAIT)
    assert posted["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == sent
    content = posted["content"]
    assert posted["encrypted"] and "url" not in content, content
    written = next(bot.workspace_dir.glob("surfaces/echo/*/notes.txt")).read_bytes()
    assert written == "Secret notes, Привет.".encode()
    assert await user.download_file(content["file"]) == written
    await assert_nothing_plaintext_from(encrypting_synapse.url, user, chat, bot.user_id)
