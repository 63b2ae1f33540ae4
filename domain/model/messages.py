"""What arrives from the chat network, as the domain sees it."""

from dataclasses import dataclass

from domain.model.ids import EventId, RoomId, UserId


@dataclass(frozen=True, kw_only=True)
class IncomingText:
    event_id: EventId
    room_id: RoomId
    sender: UserId
    body: str
    timestamp_ms: int = 0


@dataclass(frozen=True, kw_only=True)
class Invitation:
    room_id: RoomId
    inviter: UserId


@dataclass(frozen=True, kw_only=True)
class RoomRenamed:
    """A new `m.room.name` in a room, whoever set it (the bot, or the person in their client)."""

    event_id: EventId
    room_id: RoomId
    sender: UserId
    name: str


RoomEvent = IncomingText | RoomRenamed
