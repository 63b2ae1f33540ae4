"""Raw client-server API checks for the encryption tests: what the server really holds, not what a client shows."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tests.e2e.conftest import BotUnderTest
from tests.e2e.harness.homeserver import Homeserver
from tests.e2e.harness.js_user import JsUser

Event = dict[str, Any]
WAIT = 60  # seconds, generous: the first message in a room waits for key queries and claims on both sides
KEY_WAIT_S = "4"  # SURFACES_ROOM_KEY_WAIT_S in these tests
NOT_READ = "could not read your message"
ADMIN_PASSWORD = "e2e-admin-password"


async def api(
    homeserver: str, token: str, method: str, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=homeserver, timeout=30) as http:
        response = await http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, f"{method} {path}: {response.status_code} {response.text}"
    return dict(response.json())


async def raw_timeline(homeserver: str, user: JsUser, room_id: str, limit: int = 200) -> list[Event]:
    """The room's newest events as the server stores them (`/messages`, newest first)."""
    path = f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/messages?dir=b&limit={limit}"
    return list((await api(homeserver, user.access_token, "GET", path))["chunk"])


async def assert_nothing_plaintext_from(homeserver: str, user: JsUser, room_id: str, sender: str) -> int:
    """Every message-like event `sender` put into the room is `m.room.encrypted`; returns how many there are."""
    events = await raw_timeline(homeserver, user, room_id)
    sent = [e for e in events if e["sender"] == sender and "state_key" not in e]
    plain = [e for e in sent if e["type"] != "m.room.encrypted" and e["type"] != "m.reaction"]
    assert not plain, f"plaintext from {sender} in encrypted room {room_id}: {json.dumps(plain, indent=1)[:2000]}"
    assert all(e["type"] == "m.room.encrypted" for e in sent)
    return len(sent)


async def room_is_encrypted(homeserver: str, user: JsUser, room_id: str) -> bool:
    path = f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/state/m.room.encryption/"
    async with httpx.AsyncClient(base_url=homeserver, timeout=30) as http:
        response = await http.get(path, headers={"Authorization": f"Bearer {user.access_token}"})
    return response.status_code == 200 and response.json().get("algorithm") == "m.megolm.v1.aes-sha2"


async def keys_of(homeserver: str, user: JsUser, target: str) -> dict[str, Any]:
    """`POST /keys/query` for `target`, as `user` sees it."""
    return await api(
        homeserver, user.access_token, "POST", "/_matrix/client/v3/keys/query", {"device_keys": {target: []}}
    )


async def login_token(homeserver: str, user_id: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=homeserver, timeout=30) as http:
        response = await http.post(
            "/_matrix/client/v3/login",
            json={
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": user_id},
                "password": password,
            },
        )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def admin_token(server: Homeserver) -> str:
    """A fresh server admin, logged in: reads any account's devices without adding one to it."""
    user_id = server.register(f"admin-{uuid.uuid4().hex[:8]}", ADMIN_PASSWORD, admin=True)
    return await login_token(server.url, user_id, ADMIN_PASSWORD)


async def devices_of(server: Homeserver, admin: str, user_id: str) -> list[str]:
    """The account's device ids, as the server holds them (Synapse admin API). The bot accounts of the tests
    have one more than the bot makes: registration through the admin API logs in once."""
    path = f"/_synapse/admin/v2/users/{quote(user_id, safe='')}/devices"
    return sorted(d["device_id"] for d in (await api(server.url, admin, "GET", path))["devices"])


async def devices_with_keys(homeserver: str, user: JsUser, target: str) -> list[str]:
    """The devices of `target` that uploaded encryption keys (`/keys/query`): the bot's own, and no other."""
    return sorted((await keys_of(homeserver, user, target))["device_keys"].get(target, {}))


def signed_by_self_signing_key(keys: dict[str, Any], user_id: str, device_id: str) -> bool:
    """Whether the device's keys carry a signature by the user's self-signing key, in a `/keys/query` answer."""
    (self_signing,) = keys["self_signing_keys"][user_id]["keys"].values()
    device = keys["device_keys"][user_id][device_id]
    return f"ed25519:{self_signing}" in device.get("signatures", {}).get(user_id, {})


def log_records(log_path: Path, event: str) -> list[dict[str, Any]]:
    """The bot's JSON log lines whose `event` is `event`."""
    records = []
    for line in log_path.read_text(errors="replace").splitlines():
        if f'"{event}"' not in line or not line.lstrip().startswith("{"):
            continue
        record = json.loads(line)
        if record.get("event") == event:
            records.append(record)
    return records


def replies(events: list[Event], sender: str, event_id: str) -> list[Event]:
    """The decrypted events from `sender` that reply (`m.in_reply_to`) to `event_id`, edits left out."""
    out = []
    for event in events:
        relates = event.get("content", {}).get("m.relates_to") or {}
        if event["sender"] != sender or relates.get("rel_type") == "m.replace":
            continue
        if (relates.get("m.in_reply_to") or {}).get("event_id") == event_id:
            out.append(event)
    return out


async def room_type(homeserver: str, user: JsUser, room_id: str) -> str | None:
    path = f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/state/m.room.create/"
    return (await api(homeserver, user.access_token, "GET", path)).get("type")


async def onboard_js(homeserver: str, user: JsUser, bot: BotUnderTest) -> tuple[str, str, str]:
    """An encrypted DM to the bot; returns (dm, space, chat) with the user joined to both, once the bot's
    pointer in the DM has been read (decrypted)."""
    dm = await user.create_encrypted_dm(bot.user_id)
    await user.wait_for(dm, sender=bot.user_id, event_type="m.room.message", timeout=WAIT)
    invited = [await user.wait_for_invite(WAIT), await user.wait_for_invite(WAIT)]
    kinds = {}
    for room_id in invited:
        await user.join(room_id)
        kinds[room_id] = await room_type(homeserver, user, room_id)
    (space,) = [r for r, kind in kinds.items() if kind == "m.space"]
    (chat,) = [r for r, kind in kinds.items() if kind != "m.space"]
    return dm, space, chat


async def ask_js(user: JsUser, bot: BotUnderTest, room_id: str, text: str, timeout: float = WAIT) -> Event:
    """Sends `text` encrypted; returns the bot's decrypted reply to it (its `m.in_reply_to` is the message)."""
    sent = await user.send_text(room_id, text)
    return await user.wait_for(room_id, sender=bot.user_id, reply_to=sent, timeout=timeout)
