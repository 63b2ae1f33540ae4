"""Appservice transaction ids older than a day are pruned on PostgreSQL; recent ones stay (a replay is still known)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.transaction_pruning import TransactionPruning


async def test_only_transaction_ids_older_than_a_day_are_pruned(engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        for txn_id, age in (("old", timedelta(days=2)), ("recent", timedelta(hours=1))):
            await connection.execute(
                text("INSERT INTO appservice_transactions (txn_id, received_at) VALUES (:t, :at)"),
                {"t": txn_id, "at": now - age},
            )
    assert await TransactionPruning(engine).prune() == 1
    async with engine.connect() as connection:
        left = (await connection.execute(text("SELECT txn_id FROM appservice_transactions"))).scalars().all()
    assert left == ["recent"]
