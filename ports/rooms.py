from typing import Protocol

from domain.model.ids import RoomId, UserId
from domain.model.room import ChatRoom


class RoomRepository(Protocol):
    """Stores chat rooms by room id; changes are kept only when the unit of work commits."""

    async def get(self, room_id: RoomId) -> ChatRoom | None: ...

    async def add(self, room: ChatRoom) -> None: ...

    async def save(self, room: ChatRoom) -> None: ...

    async def count_answer(self, room_id: RoomId) -> None:
        """Adds one to the room's count of answered messages, without reading the room; unknown ids are ignored."""
        ...

    async def for_owner(self, owner: UserId) -> list[ChatRoom]:
        """The owner's rooms, archived ones included, by chat number."""
        ...

    async def all(self) -> list[ChatRoom]:
        """Every room, archived included, ordered by owner then chat number."""
        ...
