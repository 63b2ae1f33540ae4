from typing import Protocol

from domain.model.controls import ControlMessage
from domain.model.ids import EventId, RoomId
from domain.model.messages import UserMessage

# What the inbox records: messages, and the reactions and edits acted on exactly once like them.
InboxItem = UserMessage | ControlMessage


class Inbox(Protocol):
    """Incoming messages (texts and files) keyed by event id, so that each is answered exactly once."""

    async def record(self, message: InboxItem) -> bool:
        """Stores the message unless its event id is already known; True when it was new."""
        ...

    async def is_done(self, event_id: EventId) -> bool: ...

    async def mark_done(self, event_id: EventId) -> None:
        """Marks a recorded message answered; an event id never recorded is ignored."""
        ...

    async def pending(self, room_id: RoomId | None = None) -> list[InboxItem]:
        """Recorded messages not yet marked done, oldest first."""
        ...
