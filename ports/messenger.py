from typing import Protocol

from domain.model.ids import EventId, RoomId
from domain.model.media import UploadedMedia
from domain.model.outgoing_file import OutgoingFile


class MessageSender(Protocol):
    """Posts Markdown messages into rooms; the same `txn_id` never posts twice."""

    async def send_reply(
        self,
        room_id: RoomId,
        reply_to: EventId,
        markdown: str,
        txn_id: str,
        notice: bool = False,
        thread: EventId | None = None,
    ) -> EventId:
        """Posts `markdown` rendered to HTML as a reply (`m.in_reply_to`) to `reply_to`; as `m.notice`
        when `notice` (the bot's own remarks, not an agent's answer); in the thread whose root is `thread`."""
        ...

    async def send_file(
        self, room_id: RoomId, reply_to: EventId, file: OutgoingFile, media: UploadedMedia, txn_id: str
    ) -> EventId:
        """Posts an uploaded file (`m.image` with dimensions, else `m.file`) as a reply to `reply_to`; with its
        key when the upload was encrypted."""
        ...

    async def edit_message(self, room_id: RoomId, event_id: EventId, markdown: str, txn_id: str) -> EventId:
        """Replaces the text of our earlier message `event_id` (`m.replace`), e.g. as a streamed answer grows."""
        ...

    async def send_notice(self, room_id: RoomId, markdown: str, txn_id: str | None = None) -> EventId: ...

    async def set_typing(self, room_id: RoomId, typing: bool) -> None: ...
