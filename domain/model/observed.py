"""What the chat network says about the rooms the bot is in: the input of reconciliation."""

from dataclasses import dataclass, field

from domain.model.ids import AgentId, EventId, PlatformChatId, RoomId, UserId
from domain.model.messages import UserMessage
from domain.model.room import RoomStatus


@dataclass(frozen=True, kw_only=True)
class RoomRecord:
    """The content of a room's `dev.surfaces.room` state event."""

    owner: UserId
    space_id: RoomId
    chat_number: int
    agent_id: AgentId
    platform_chat_id: PlatformChatId
    status: RoomStatus


@dataclass(frozen=True, kw_only=True)
class ObservedRoom:
    room_id: RoomId
    name: str | None = None
    space_owner: UserId | None = None  # from `dev.surfaces.space`: this room is someone's Space
    record: RoomRecord | None = None  # from `dev.surfaces.room`: this room is a chat
    children: frozenset[RoomId] = frozenset()  # live `m.space.child` links (content with `via`)
    parents: frozenset[RoomId] = frozenset()  # `m.space.parent` links
    # The room's recent timeline: texts and files from people, and the events our replies point at.
    recent: tuple[UserMessage, ...] = ()
    answered: frozenset[EventId] = frozenset()


@dataclass(frozen=True, kw_only=True)
class ObservedTopology:
    rooms: tuple[ObservedRoom, ...] = field(default=())

    def room(self, room_id: RoomId) -> ObservedRoom | None:
        return next((room for room in self.rooms if room.room_id == room_id), None)
