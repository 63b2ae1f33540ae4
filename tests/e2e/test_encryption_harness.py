"""The encryption test harness itself works, without the bot: two matrix-js-sdk users (Rust crypto) exchange
encrypted messages and an encrypted file on the encrypting Synapse, and the sync proxy holds room keys back and
hands them over late."""

from __future__ import annotations

import asyncio
import os

from tests.e2e.conftest import USER_PASSWORD, NewJsUser
from tests.e2e.encryption_helpers import WAIT, api, assert_nothing_plaintext_from, room_is_encrypted
from tests.e2e.harness.homeserver import Homeserver
from tests.e2e.harness.js_user import JsUser
from tests.e2e.harness.sync_proxy import SyncProxy


async def test_two_js_users_exchange_encrypted_messages_and_a_file(
    new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    alice, bob = await new_js_user(), await new_js_user()
    room_id = await alice.create_encrypted_dm(bob.user_id)
    assert await bob.wait_for_invite() == room_id
    await bob.join(room_id)

    ping = await alice.send_text(room_id, "ping")
    seen = await bob.wait_for(room_id, sender=alice.user_id, event_type="m.room.message", timeout=WAIT)
    assert (seen["event_id"], seen["content"]["body"]) == (ping, "ping")
    assert seen["encrypted"] and not seen["decryption_failed"]

    pong = await bob.send_text(room_id, "pong", reply_to=ping)
    answer = await alice.wait_for(room_id, sender=bob.user_id, reply_to=ping, timeout=WAIT)
    assert (answer["event_id"], answer["content"]["body"], answer["encrypted"]) == (pong, "pong", True)

    data = os.urandom(70_000)
    mark = await bob.mark()
    file_event = await alice.send_file(room_id, data, "blob.bin")
    posted = await bob.wait_for(room_id, sender=alice.user_id, after=mark, timeout=WAIT)
    assert posted["event_id"] == file_event and posted["content"]["msgtype"] == "m.file"
    assert "url" not in posted["content"] and posted["content"]["file"]["url"].startswith("mxc://")
    assert await bob.download_file(posted["content"]["file"]) == data

    assert await room_is_encrypted(encrypting_synapse.url, alice, room_id)
    for sender in (alice.user_id, bob.user_id):
        assert await assert_nothing_plaintext_from(encrypting_synapse.url, alice, room_id, sender) >= 1


async def test_rooms_created_without_encryption_come_out_encrypted(
    new_js_user: NewJsUser, encrypting_synapse: Homeserver
) -> None:
    alice, bob = await new_js_user(), await new_js_user()
    created = await alice.call("create_encrypted_dm", invite=bob.user_id)  # the harness' own DM is encrypted
    assert await room_is_encrypted(encrypting_synapse.url, alice, created["room_id"])
    # The server setting under test: a room created with no m.room.encryption at all is encrypted too.
    plain = await _create_plain_room(encrypting_synapse, alice)
    assert await room_is_encrypted(encrypting_synapse.url, alice, plain)


async def test_the_proxy_holds_room_keys_until_released(new_js_user: NewJsUser, encrypting_synapse: Homeserver) -> None:
    proxy = SyncProxy(encrypting_synapse.url)
    await proxy.start()
    try:
        alice = await new_js_user()
        bob_id = encrypting_synapse.register(f"js-proxied-{os.urandom(4).hex()}", USER_PASSWORD)
        bob = await JsUser.login(proxy.url, bob_id, USER_PASSWORD)
        try:
            room_id = await alice.create_encrypted_dm(bob.user_id)
            assert await bob.wait_for_invite() == room_id
            await bob.join(room_id)
            proxy.hold()
            sent = await alice.send_text(room_id, "a key that comes late")
            stuck = await bob.wait_for(room_id, event_id=sent, allow_undecryptable=True, timeout=WAIT)
            assert stuck["decryption_failed"] and stuck["encrypted"], stuck
            await asyncio.sleep(2)  # still nothing: the key is held
            assert (await bob.wait_for(room_id, event_id=sent, allow_undecryptable=True))["decryption_failed"]
            assert proxy.held, "no encrypted to-device event was held"

            proxy.release()
            read = await bob.wait_for(room_id, event_id=sent, timeout=WAIT)
            assert read["content"]["body"] == "a key that comes late" and not read["decryption_failed"]
        finally:
            await bob.close()
    finally:
        await proxy.stop()


async def test_a_dropped_key_never_arrives(new_js_user: NewJsUser, encrypting_synapse: Homeserver) -> None:
    proxy = SyncProxy(encrypting_synapse.url)
    await proxy.start()
    try:
        alice = await new_js_user()
        bob_id = encrypting_synapse.register(f"js-proxied-{os.urandom(4).hex()}", USER_PASSWORD)
        bob = await JsUser.login(proxy.url, bob_id, USER_PASSWORD)
        try:
            room_id = await alice.create_encrypted_dm(bob.user_id)
            assert await bob.wait_for_invite() == room_id
            await bob.join(room_id)
            proxy.hold()
            sent = await alice.send_text(room_id, "a key that never comes")
            await bob.wait_for(room_id, event_id=sent, allow_undecryptable=True, timeout=WAIT)
            await asyncio.sleep(1)
            proxy.drop_held()
            proxy.release()
            await asyncio.sleep(3)
            (event,) = [e for e in await bob.events(room_id) if e["event_id"] == sent]
            assert event["decryption_failed"]
        finally:
            await bob.close()
    finally:
        await proxy.stop()


async def _create_plain_room(server: Homeserver, user: JsUser) -> str:
    created = await api(
        server.url, user.access_token, "POST", "/_matrix/client/v3/createRoom", {"preset": "private_chat"}
    )
    return str(created["room_id"])
