"""A chat room: one conversation with one agent, owned by one person."""

from dataclasses import dataclass
from enum import StrEnum

from domain.model.context import ChatContext
from domain.model.ids import RoomId, UserId

STATE_VERSION = 1


class RoomStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


@dataclass(kw_only=True)
class ChatRoom:
    room_id: RoomId
    owner: UserId
    space_id: RoomId
    chat_number: int
    name: str
    context: ChatContext
    status: RoomStatus = RoomStatus.ACTIVE
    message_count: int = 0
    # Set once the "this chat is archived" notice was posted, so later messages get no second one.
    archived_notice_sent: bool = False

    @property
    def chat_id(self) -> str:
        """The user-facing label of the chat within its Space ("C1", "C2", ...)."""
        return f"C{self.chat_number}"

    @property
    def is_active(self) -> bool:
        return self.status is RoomStatus.ACTIVE

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChatRoom) and other.room_id == self.room_id

    def __hash__(self) -> int:
        return hash(self.room_id)
