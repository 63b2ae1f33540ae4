"""A person known to the bot and their private Space."""

from dataclasses import dataclass

from domain.model.ids import RoomId, UserId


@dataclass(kw_only=True)
class UserSpace:
    """The person's Space; `space_id` is None only while provisioning is half-way."""

    owner: UserId
    display_name: str
    space_id: RoomId | None = None
    chats_created: int = 0

    def next_chat_number(self) -> int:
        self.chats_created += 1
        return self.chats_created

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UserSpace) and other.owner == self.owner

    def __hash__(self) -> int:
        return hash(self.owner)
