"""People who write encrypted: their own matrix-nio device with encryption (vodozemac), for the surfaces_e2ee row.

Only sending goes through nio (it encrypts, shares its room keys with the bot's devices, tracks them by its
sync loop). Watching answers stays on the lean client of another device of the same user: the bot's encrypted
answers keep `m.relates_to` in cleartext, so the watcher needs no keys. nio's own sync asks for no message
events (the timeline is filtered to membership and encryption state): it is there for the key traffic, and the
bench process pays no decryption while measuring. The answers are decrypted once, at the end, for the count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nio import (
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    ErrorResponse,
    Event,
    JoinResponse,
    LoginResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomPreset,
    RoomSendResponse,
)

from bench.matrix import LeanClient, MatrixHTTPError

Json = dict[str, Any]
MEGOLM = "m.megolm.v1.aes-sha2"
ENCRYPTION_STATE: Json = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}}
_KEYS_ONLY_FILTER: Json = {
    "room": {
        "timeline": {"limit": 20, "types": ["m.room.member", "m.room.encryption", "m.room.create"]},
        "ephemeral": {"types": []},
        "account_data": {"types": []},
    },
    "presence": {"types": []},
    "account_data": {"types": []},
}
_POLL_MS = 30_000
# nio warns "Missing session for device" each time it is about to claim a one-time key: the normal first step.
logging.getLogger("nio.crypto.log").setLevel(logging.ERROR)


class EncryptingDevice:
    """A person's encrypting device: sends encrypted messages, keeps its keys current, decrypts answers."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def login(cls, url: str, user_id: str, password: str, store: Path) -> EncryptingDevice:
        await asyncio.to_thread(store.mkdir, parents=True, exist_ok=True)
        # A request may take as long as the lean client's (aiohttp's default: 300 s): a burst's sends queue up at
        # the homeserver, and a send given up by the client would be counted as lost (nio resends it with the
        # same transaction id, so a retry never makes a second message).
        config = AsyncClientConfig(
            encryption_enabled=True, store_sync_tokens=False, max_limit_exceeded=0, max_timeouts=2, request_timeout=300
        )
        client = AsyncClient(url, user_id, store_path=str(store), config=config)
        response = await client.login(password, device_name="bench-e2ee")
        if not isinstance(response, LoginResponse):
            await client.close()
            raise RuntimeError(f"login of {user_id} failed: {response}")
        device = cls(client)
        await device.start()
        return device

    async def start(self) -> None:
        """One sync and the key upload, then nio's own loop in the background (key queries, claims, to-device)."""
        await self.client.sync(timeout=0, sync_filter=_KEYS_ONLY_FILTER, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self._task = asyncio.create_task(self.client.sync_forever(timeout=_POLL_MS, sync_filter=_KEYS_ONLY_FILTER))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.close()

    async def create_encrypted_dm(self, invitee: str) -> str:
        response = await self.client.room_create(
            is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[invitee], initial_state=[ENCRYPTION_STATE]
        )
        if not isinstance(response, RoomCreateResponse):
            raise RuntimeError(f"encrypted DM with {invitee}: {response}")
        return str(response.room_id)

    async def next_invite(self, seen: set[str], wait_s: float) -> str:
        """An invite not in `seen` (then added to it), as nio's sync loop sees them."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            for room_id in self.client.invited_rooms:
                if room_id not in seen:
                    seen.add(room_id)
                    return str(room_id)
            await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.client.user_id}: no new invite within {wait_s} s")

    async def join(self, room_id: str, wait_s: float) -> None:
        response = await self.client.join(room_id)
        if not isinstance(response, JoinResponse):
            raise RuntimeError(f"join {room_id}: {response}")
        await self._until(lambda: room_id in self.client.rooms, wait_s, f"{room_id} in the sync")

    async def ready_to_send(self, room_id: str, wait_s: float) -> None:
        """The room is known encrypted, its members loaded and the room key shared with the bot's devices:
        the first message of a burst then costs what every other one does."""
        await self._until(lambda: self.client.rooms[room_id].encrypted, wait_s, f"{room_id} encrypted in the sync")
        room = self.client.rooms[room_id]
        if not room.members_synced:
            await self.client.joined_members(room_id)
        if self.client.should_query_keys:
            await self.client.keys_query()
        assert self.client.olm is not None
        if self.client.olm.should_share_group_session(room_id):
            await self.client.share_group_session(room_id, ignore_unverified_devices=True)

    async def send_text(self, room_id: str, text: str) -> str:
        content = {"msgtype": "m.text", "body": text}
        response = await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        if isinstance(response, ErrorResponse) or not isinstance(response, RoomSendResponse):
            raise MatrixHTTPError(f"encrypted send to {room_id} as {self.client.user_id}: {response}")
        return str(response.event_id)

    def content_of(self, room_id: str, event: Json) -> Json | None:
        """The event's content, decrypted when it is m.room.encrypted; None when no key opens it."""
        if event.get("type") != "m.room.encrypted":
            return dict(event.get("content", {}))
        parsed = Event.parse_encrypted_event(event)
        if not isinstance(parsed, MegolmEvent):
            return None
        parsed.room_id = room_id
        try:
            decrypted = self.client.decrypt_event(parsed)
        except EncryptionError:
            return None
        content = decrypted.source.get("content")
        return dict(content) if isinstance(content, dict) else None

    async def _until(self, check: Any, wait_s: float, what: str) -> None:
        deadline = time.monotonic() + wait_s
        while not check():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.client.user_id}: not {what} within {wait_s} s")
            await asyncio.sleep(0.05)


async def is_encrypted(client: LeanClient, room_id: str) -> bool:
    """`m.room.encryption` is in the room's state (Megolm)."""
    try:
        state = await client.request("GET", f"/rooms/{quote(room_id)}/state/m.room.encryption")
    except MatrixHTTPError:
        return False
    return state.get("algorithm") == MEGOLM
