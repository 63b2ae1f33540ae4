"""Each room's latest turn (regenerate and edit replace it)."""

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import LATEST_TURNS
from adapters.persistence.upsert import upsert
from domain.model.ids import EventId, RoomId
from domain.model.turn import LatestTurn
from ports.turns import LatestTurnRepository


class SqlAlchemyLatestTurnRepository(LatestTurnRepository):
    """`LatestTurnRepository` over one `AsyncSession`; the unit of work commits, never this. Core statements only."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, room_id: RoomId) -> LatestTurn | None:
        row = (await self._session.execute(select(LATEST_TURNS).where(LATEST_TURNS.c.room_id == room_id))).first()
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
        values = {
            "room_id": turn.room_id,
            "question_id": turn.question_id,
            "question": turn.question,
            "answer_id": turn.answer_id,
            "trigger": turn.trigger,
        }
        # One statement on every answer (this runs in its write transaction); delete-then-insert elsewhere.
        statement = upsert(self._session.get_bind().dialect.name, LATEST_TURNS, values, ["room_id"])
        if statement is None:
            await self._session.execute(delete(LATEST_TURNS).where(LATEST_TURNS.c.room_id == turn.room_id))
            statement = insert(LATEST_TURNS).values(values)
        await self._session.execute(statement)
