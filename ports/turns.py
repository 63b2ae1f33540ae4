from typing import Protocol

from domain.model.ids import RoomId
from domain.model.turn import LatestTurn


class LatestTurnRepository(Protocol):
    """Each room's latest answered turn; kept only when the unit of work commits."""

    async def get(self, room_id: RoomId) -> LatestTurn | None: ...

    async def save(self, turn: LatestTurn) -> None:
        """Replaces the room's latest turn."""
        ...
