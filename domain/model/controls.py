"""What a person does to a conversation rather than saying something new in it: redactions, reactions and edits.
Handled by the bot, never sent to an agent as a message of their own."""

from dataclasses import dataclass
from typing import Final

from domain.model.ids import EventId, RoomId, UserId

# The 🔁 reaction asks for a new answer; clients send it with or without the emoji variation selector.
REGENERATE_KEYS: Final = frozenset({"\U0001f501", "\U0001f501\ufe0f"})


@dataclass(frozen=True, kw_only=True)
class Redaction:
    """`m.room.redaction` of `redacts` by `sender`: for a question still being answered, a stop."""

    event_id: EventId
    room_id: RoomId
    sender: UserId
    redacts: EventId


@dataclass(frozen=True, kw_only=True)
class Reaction:
    """An `m.reaction` (`m.annotation`) with `key` on `reacts_to`; only 🔁 reaches the bot (regenerate)."""

    event_id: EventId
    room_id: RoomId
    sender: UserId
    reacts_to: EventId
    key: str
    timestamp_ms: int = 0

    @property
    def body(self) -> str:
        return ""


@dataclass(frozen=True, kw_only=True)
class QuestionEdited:
    """An edit (`m.replace`) of the person's message `edits`; `body` is the new text (`m.new_content`)."""

    event_id: EventId
    room_id: RoomId
    sender: UserId
    edits: EventId
    body: str
    timestamp_ms: int = 0


# Recorded in the inbox and acted on exactly once, like a message.
ControlMessage = Reaction | QuestionEdited
ControlEvent = Redaction | Reaction | QuestionEdited
