"""Old appservice transaction ids go: the homeserver replays a transaction only until it is acknowledged."""

import logging
from datetime import timedelta
from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

# A day: Synapse retries an unacknowledged transaction with back-off for minutes to hours, never a day after
# it got its 200. Any replica may prune; the DELETE is idempotent.
KEEP: Final = timedelta(days=1)
_PRUNE: Final = text(
    "DELETE FROM appservice_transactions WHERE received_at < clock_timestamp() - CAST(:keep AS interval)"
)


class TransactionPruning:
    """Deletes transaction ids older than `KEEP`; the inbox rows they brought stay (they are the ledger)."""

    def __init__(self, engine: AsyncEngine, keep: timedelta = KEEP) -> None:
        self._engine = engine
        self._keep = keep

    async def prune(self) -> int:
        async with self._engine.begin() as connection:
            result = await connection.execute(_PRUNE, {"keep": self._keep})
        removed = int(getattr(result, "rowcount", 0) or 0)
        if removed:
            log.info("appservice_transactions_pruned", extra={"removed": removed})
        return removed
