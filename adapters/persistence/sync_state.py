"""The sync token, kept in the same transaction as the inbox rows it accounts for."""

from typing import Final

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import SYNC_STATE, SyncStateRow
from ports.sync_state import SyncState

NEXT_BATCH_KEY = "next_batch"


class SqlAlchemySyncState(SyncState):
    """`SyncState` over one `AsyncSession`; the unit of work commits, never this."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_token(self) -> str | None:
        row = await self._session.get(SyncStateRow, NEXT_BATCH_KEY)
        return None if row is None else row.value

    async def set_token(self, token: str) -> None:
        # An UPDATE, and an INSERT only the first time: this runs after every sync.
        updated = await self._session.execute(_SET_TOKEN, {"b_value": token})
        if getattr(updated, "rowcount", 0) == 0:
            self._session.add(SyncStateRow(key=NEXT_BATCH_KEY, value=token))


_SET_TOKEN: Final = update(SYNC_STATE).where(SYNC_STATE.c.key == NEXT_BATCH_KEY).values(value=bindparam("b_value"))
