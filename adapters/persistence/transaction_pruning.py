"""Appservice housekeeping: old transaction ids and long-answered inbox rows go, so the database grows with the
people and rooms, not with every message ever answered (docs/scaling.md)."""

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
# A month: an answered message's row only guards against a second delivery of the same event, which comes within
# seconds (a retried transaction) or, after a lost database, from the recent timeline, where the bot's own reply
# already marks it answered. Undone rows are never pruned.
KEEP_ANSWERED: Final = timedelta(days=30)
_PRUNE_ANSWERED: Final = text("DELETE FROM inbox WHERE done AND done_at < clock_timestamp() - CAST(:keep AS interval)")


class TransactionPruning:
    """Deletes transaction ids older than `keep` and inbox rows answered longer than `keep_answered` ago."""

    def __init__(self, engine: AsyncEngine, keep: timedelta = KEEP, keep_answered: timedelta = KEEP_ANSWERED) -> None:
        self._engine = engine
        self._keep = keep
        self._keep_answered = keep_answered

    async def prune(self) -> int:
        async with self._engine.begin() as connection:
            transactions = await connection.execute(_PRUNE, {"keep": self._keep})
            answered = await connection.execute(_PRUNE_ANSWERED, {"keep": self._keep_answered})
        removed = _count(transactions) + _count(answered)
        if removed:
            log.info("appservice_pruned", extra={"transactions": _count(transactions), "answered": _count(answered)})
        return removed


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
