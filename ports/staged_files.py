from collections.abc import Iterable
from typing import Protocol

from domain.model.ids import EventId, RoomId
from domain.model.staged_file import StagedFile


class StagedFileRepository(Protocol):
    """Files waiting per room for its next text message; changes are kept only when the unit of work commits."""

    async def add(self, staged: StagedFile) -> None:
        """Stages the file; staging the same (room, event) again keeps one."""
        ...

    async def for_room(self, room_id: RoomId) -> list[StagedFile]:
        """The room's staged files, oldest first."""
        ...

    async def remove(self, room_id: RoomId, event_ids: Iterable[EventId]) -> None:
        """Unstages those files of this room; ids not staged here are ignored."""
        ...
