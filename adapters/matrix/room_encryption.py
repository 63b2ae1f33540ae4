"""Which rooms are encrypted, and making nio ready to encrypt into one: nothing the bot sends there is plaintext."""

import asyncio
import logging
from typing import Any

from nio import AsyncClient, KeysQueryResponse, MatrixRoom, RoomGetStateResponse

from adapters.matrix.errors import checked

log = logging.getLogger(__name__)

ENCRYPTION_EVENT = "m.room.encryption"
MEGOLM = "m.megolm.v1.aes-sha2"


class RoomEncryption:
    """Knows whether a room is encrypted before nio has synced it, and loads its members so keys reach them.

    nio learns about a room only from `/sync`, but the bot writes into rooms it has just created (the
    welcome) or joined (the lobby pointer) before any sync has shown them. Asking nio alone would send those
    messages in plaintext, or fail. So a room nio does not know is read once from the homeserver (its full
    state: `m.room.encryption` and every membership, invites included) and handed to nio. A room, once
    encrypted, stays encrypted (the spec forbids turning it off), so a positive answer is final.
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._loading: dict[str, asyncio.Lock] = {}
        self._query = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        """Whether the client can encrypt at all (its crypto store is loaded)."""
        return self._client.olm is not None

    async def is_encrypted(self, room_id: str) -> bool:
        if not self.enabled:
            return False
        room = await self._room(room_id)
        return bool(room.encrypted)

    async def prepare(self, room_id: str) -> None:
        """Before a send: the room known to nio and, when encrypted, every member's devices queried."""
        if await self.is_encrypted(room_id):
            await self.query_keys()

    async def query_keys(self) -> None:
        """Queries the devices of users whose device lists are new or changed, one query at a time."""
        async with self._query:  # nio refuses a second query while one runs
            if self._client.olm is not None and self._client.should_query_keys:
                checked("query keys", await self._client.keys_query(), KeysQueryResponse)

    async def _room(self, room_id: str) -> MatrixRoom:
        known = self._client.rooms.get(room_id)
        if known is not None:
            return known
        lock = self._loading.setdefault(room_id, asyncio.Lock())
        async with lock:
            known = self._client.rooms.get(room_id)
            if known is None:
                known = await self._load(room_id)
        self._loading.pop(room_id, None)
        return known

    async def _load(self, room_id: str) -> MatrixRoom:
        response = checked("read room state", await self._client.room_get_state(room_id), RoomGetStateResponse)
        room = room_from_state(room_id, self._client.user_id, response.events)
        # A sync may have brought the room while we read: keep nio's own copy then.
        room = self._client.rooms.setdefault(room_id, room)
        if room.encrypted:
            self._client.encrypted_rooms.add(room_id)
            if self._client.olm is not None:
                self._client.olm.update_tracked_users(room)
        log.info("room_encryption_loaded", extra={"room_id": room_id, "encrypted": room.encrypted})
        return room


def room_from_state(room_id: str, own_user_id: str, events: list[dict[str, Any]]) -> MatrixRoom:
    """A nio room from a `/state` answer: encrypted or not, joined and invited members."""
    room = MatrixRoom(room_id, own_user_id)
    for event in events:
        if not isinstance(event, dict):
            continue
        event_type, content = event.get("type"), event.get("content")
        if not isinstance(content, dict):
            continue
        if event_type == ENCRYPTION_EVENT and content.get("algorithm"):
            room.encrypted = True
        elif event_type == "m.room.member" and isinstance(event.get("state_key"), str):
            membership = content.get("membership")
            if membership in ("join", "invite"):
                room.add_member(event["state_key"], content.get("displayname"), None, membership == "invite")
    room.members_synced = True
    return room
