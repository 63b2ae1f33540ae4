"""A file that arrived without a caption and waits in its room for the next text message."""

from dataclasses import dataclass

from domain.model.attachment import Attachment
from domain.model.ids import EventId, RoomId


@dataclass(frozen=True, kw_only=True)
class StagedFile:
    room_id: RoomId
    event_id: EventId  # the file's own event: staging the same event twice keeps one
    attachment: Attachment
    timestamp_ms: int = 0
