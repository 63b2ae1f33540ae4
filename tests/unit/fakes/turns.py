"""In-memory latest turns over the shared `FakeStore`, staged per unit of work like the other fakes."""

from domain.model.ids import RoomId
from domain.model.turn import LatestTurn
from ports.turns import LatestTurnRepository
from tests.unit.fakes.repositories import FakeStore


class FakeLatestTurnRepository(LatestTurnRepository):
    def __init__(self, store: FakeStore) -> None:
        self._committed = store.turns
        self._changes: dict[RoomId, LatestTurn] = {}

    async def get(self, room_id: RoomId) -> LatestTurn | None:
        return self._changes.get(room_id, self._committed.get(room_id))

    async def save(self, turn: LatestTurn) -> None:
        self._changes[turn.room_id] = turn

    def apply(self) -> None:
        self._committed.update(self._changes)
        self.discard()

    def discard(self) -> None:
        self._changes.clear()
