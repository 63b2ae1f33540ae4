from dataclasses import dataclass
from typing import Protocol

from domain.model.ids import RoomId, UserId
from domain.model.room import ChatRoom
from domain.model.space import UserSpace


class ChatNetworkError(Exception):
    """The homeserver refused or failed a request."""


@dataclass(frozen=True, kw_only=True)
class NewRoom:
    """A chat room to create inside a Space, already carrying its surfaces state."""

    name: str
    space_id: RoomId
    invite: UserId
    room: ChatRoom


class ChatTopology(Protocol):
    """Creates and links Spaces and rooms on the chat network and keeps their surfaces state events current."""

    @property
    def server_name(self) -> str: ...

    async def display_name(self, user_id: UserId) -> str: ...

    async def join(self, room_id: RoomId) -> None: ...

    async def reject(self, room_id: RoomId, reason: str) -> None: ...

    async def create_space(self, name: str, space: UserSpace) -> RoomId:
        """A private invite-only Space carrying `dev.surfaces.space`, its owner invited."""
        ...

    async def create_chat_room(self, new_room: NewRoom) -> RoomId:
        """A private room with canonical `m.space.parent` and `dev.surfaces.room`, its owner invited."""
        ...

    async def link_child(self, space_id: RoomId, room_id: RoomId) -> None:
        """Writes `m.space.child` (state_key = room id, `via` = our server) into the Space."""
        ...

    async def link_parent(self, room_id: RoomId, space_id: RoomId) -> None:
        """Writes the canonical `m.space.parent` (state_key = Space id) into the room."""
        ...

    async def unlink_child(self, space_id: RoomId, room_id: RoomId) -> None:
        """Removes the room from the Space (an empty `m.space.child`)."""
        ...

    async def set_room_name(self, room_id: RoomId, name: str) -> None: ...

    async def invite(self, room_id: RoomId, user_id: UserId) -> None:
        """Invites the user; already being a member is not an error."""
        ...

    async def write_room_state(self, room: ChatRoom) -> None:
        """Rewrites the room's `dev.surfaces.room` state event from the entity."""
        ...
