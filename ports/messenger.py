from typing import Protocol

from domain.model.ids import EventId, RoomId


class MessageSender(Protocol):
    """Posts Markdown messages into rooms; the same `txn_id` never posts twice."""

    async def send_reply(self, room_id: RoomId, reply_to: EventId, markdown: str, txn_id: str) -> EventId:
        """Posts `markdown` rendered to HTML as a reply (`m.in_reply_to`) to `reply_to`."""
        ...

    async def send_notice(self, room_id: RoomId, markdown: str, txn_id: str | None = None) -> EventId: ...

    async def set_typing(self, room_id: RoomId, typing: bool) -> None: ...
