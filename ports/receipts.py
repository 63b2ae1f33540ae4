from typing import Protocol

from domain.model.ids import EventId, RoomId


class ReadReceipts(Protocol):
    """Tells the person their message was taken; best effort, never raises."""

    async def mark_read(self, room_id: RoomId, event_id: EventId) -> None: ...
