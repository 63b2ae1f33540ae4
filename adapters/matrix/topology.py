"""Spaces, rooms and their state on a Matrix homeserver, through matrix-nio."""

from typing import Any

from nio import (
    AsyncClient,
    JoinResponse,
    ProfileGetDisplayNameResponse,
    RoomCreateResponse,
    RoomGetStateEventResponse,
    RoomInviteError,
    RoomInviteResponse,
    RoomLeaveResponse,
    RoomPreset,
    RoomPutStateResponse,
    RoomVisibility,
)

from adapters.matrix import state_events as se
from adapters.matrix.errors import checked
from adapters.matrix.room_encryption import ENCRYPTION_EVENT, MEGOLM
from domain.model.ids import RoomId, UserId
from domain.model.room import ChatRoom
from domain.model.space import UserSpace
from ports.topology import ChatTopology, NewRoom

# Everything but naming and decoration stays above the owner's level 50.
_BOT_ONLY_EVENTS = (
    "m.room.power_levels",
    "m.room.history_visibility",
    "m.room.encryption",
    "m.room.tombstone",
    "m.room.server_acl",
    "m.room.join_rules",
    se.ROOM_STATE,
    se.SPACE_PARENT,
)


def owner_moderates(power_levels: dict[str, Any], owner: str) -> dict[str, Any]:
    """The owner may rename, set a topic and remove strangers, but cannot rewrite routing or links."""
    updated = dict(power_levels)
    updated["users"] = {**power_levels.get("users", {}), owner: 50}
    updated["events"] = {**power_levels.get("events", {}), **dict.fromkeys(_BOT_ONLY_EVENTS, 100)}
    return updated


class NioChatTopology(ChatTopology):
    """ChatTopology on matrix-nio; every nio error response becomes a ChatNetworkError."""

    def __init__(self, client: AsyncClient, server_name: str, encrypt_rooms: bool = False) -> None:
        self._client = client
        self._server_name = server_name
        # SURFACES_ENCRYPTION: chat rooms are created encrypted (a homeserver may encrypt them anyway).
        self._encrypt_rooms = encrypt_rooms

    @property
    def server_name(self) -> str:
        return self._server_name

    async def display_name(self, user_id: UserId) -> str:
        response = await self._client.get_displayname(user_id)
        if isinstance(response, ProfileGetDisplayNameResponse) and response.displayname:
            return str(response.displayname)
        # A user without a display name is still onboarded, under their localpart.
        return user_id.split(":", 1)[0].lstrip("@")

    async def join(self, room_id: RoomId) -> None:
        checked("join", await self._client.join(room_id), JoinResponse)

    async def reject(self, room_id: RoomId, reason: str) -> None:
        # nio's room_leave carries no reason; the reason is logged by the caller.
        checked("reject invite", await self._client.room_leave(room_id), RoomLeaveResponse)

    async def create_space(self, name: str, space: UserSpace) -> RoomId:
        response = await self._client.room_create(
            visibility=RoomVisibility.private,
            name=name,
            preset=RoomPreset.private_chat,
            space=True,
            invite=[space.owner],
            initial_state=[se.state_event(se.SPACE_STATE, se.space_content(space))],
        )
        return RoomId(checked("create space", response, RoomCreateResponse).room_id)

    async def create_chat_room(self, new_room: NewRoom) -> RoomId:
        initial_state = [
            se.state_event(se.SPACE_PARENT, se.parent_content(self._server_name), new_room.space_id),
            se.state_event(se.ROOM_STATE, se.room_content(new_room.room)),
        ]
        if self._encrypt_rooms:
            initial_state.append(se.state_event(ENCRYPTION_EVENT, {"algorithm": MEGOLM}))
        response = await self._client.room_create(
            visibility=RoomVisibility.private,
            name=new_room.name,
            preset=RoomPreset.private_chat,
            invite=[new_room.invite],
            initial_state=initial_state,
        )
        room_id = RoomId(checked("create room", response, RoomCreateResponse).room_id)
        await self._let_owner_moderate(room_id, new_room.invite)
        return room_id

    async def _let_owner_moderate(self, room_id: RoomId, owner: UserId) -> None:
        # Adjusted after creation rather than overridden at creation: room version 12 forbids
        # listing the creator in `users`, older versions need it; editing what the server made
        # works on both.
        current = checked(
            "read power levels",
            await self._client.room_get_state_event(room_id, "m.room.power_levels"),
            RoomGetStateEventResponse,
        )
        response = await self._client.room_put_state(
            room_id, "m.room.power_levels", owner_moderates(current.content, owner)
        )
        checked("set power levels", response, RoomPutStateResponse)

    async def link_child(self, space_id: RoomId, room_id: RoomId) -> None:
        response = await self._client.room_put_state(
            space_id, se.SPACE_CHILD, se.child_content(self._server_name), state_key=room_id
        )
        checked("link child", response, RoomPutStateResponse)

    async def link_parent(self, room_id: RoomId, space_id: RoomId) -> None:
        response = await self._client.room_put_state(
            room_id, se.SPACE_PARENT, se.parent_content(self._server_name), state_key=space_id
        )
        checked("link parent", response, RoomPutStateResponse)

    async def unlink_child(self, space_id: RoomId, room_id: RoomId) -> None:
        # An empty m.space.child content is how the spec removes a child.
        response = await self._client.room_put_state(space_id, se.SPACE_CHILD, {}, state_key=room_id)
        checked("unlink child", response, RoomPutStateResponse)

    async def set_room_name(self, room_id: RoomId, name: str) -> None:
        response = await self._client.room_put_state(room_id, "m.room.name", {"name": name})
        checked("set room name", response, RoomPutStateResponse)

    async def invite(self, room_id: RoomId, user_id: UserId) -> None:
        response = await self._client.room_invite(room_id, user_id)
        if isinstance(response, RoomInviteError) and "already in the room" in str(response.message):
            return
        checked("invite", response, RoomInviteResponse)

    async def write_room_state(self, room: ChatRoom) -> None:
        response = await self._client.room_put_state(room.room_id, se.ROOM_STATE, se.room_content(room))
        checked("write room state", response, RoomPutStateResponse)
