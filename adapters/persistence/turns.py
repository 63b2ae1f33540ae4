"""Each room's latest turn (regenerate and edit replace it)."""

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import LatestTurnRow
from domain.model.ids import EventId, RoomId
from domain.model.turn import LatestTurn
from ports.turns import LatestTurnRepository


class SqlAlchemyLatestTurnRepository(LatestTurnRepository):
    """`LatestTurnRepository` over one `AsyncSession`; the unit of work commits, never this. Core statements only."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, room_id: RoomId) -> LatestTurn | None:
        row = (
            await self._session.execute(select(LatestTurnRow.__table__).where(LatestTurnRow.room_id == room_id))
        ).first()
        if row is None:
            return None
        return LatestTurn(
            room_id=RoomId(row.room_id),
            question_id=EventId(row.question_id),
            question=row.question,
            answer_id=EventId(row.answer_id),
            trigger=None if row.trigger is None else EventId(row.trigger),
        )

    async def save(self, turn: LatestTurn) -> None:
        # Delete then insert: portable across SQLite and PostgreSQL without a dialect-specific upsert.
        await self._session.execute(delete(LatestTurnRow).where(LatestTurnRow.room_id == turn.room_id))
        values = {
            "room_id": turn.room_id,
            "question_id": turn.question_id,
            "question": turn.question,
            "answer_id": turn.answer_id,
            "trigger": turn.trigger,
        }
        await self._session.execute(insert(LatestTurnRow).values(values))
