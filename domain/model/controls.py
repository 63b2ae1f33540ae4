"""What a person does to a conversation rather than saying something in it: redactions (and, later, reactions
and edits). Handled by the bot, never sent to an agent as a message."""

from dataclasses import dataclass

from domain.model.ids import EventId, RoomId, UserId


@dataclass(frozen=True, kw_only=True)
class Redaction:
    """`m.room.redaction` of `redacts` by `sender`: for a question still being answered, a stop."""

    event_id: EventId
    room_id: RoomId
    sender: UserId
    redacts: EventId


ControlEvent = Redaction
