"""The sync token, kept in the same transaction as the inbox rows it accounts for."""

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import SyncStateRow
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
        await self._session.merge(SyncStateRow(key=NEXT_BATCH_KEY, value=token))
