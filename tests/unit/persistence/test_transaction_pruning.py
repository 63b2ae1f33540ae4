"""Appservice housekeeping on PostgreSQL: transaction ids older than a day and inbox rows answered more than a
month ago are pruned; recent ones, and every unanswered message, stay."""

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


async def test_only_long_answered_inbox_rows_are_pruned_never_an_unanswered_one(engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    rows = (("$old-answered", True, now - timedelta(days=40)), ("$recent", True, now - timedelta(days=1)))
    rows += (("$old-unanswered", False, None),)
    async with engine.begin() as connection:
        for event_id, done, done_at in rows:
            await connection.execute(
                text(
                    "INSERT INTO inbox (event_id, room_id, sender, body, timestamp_ms, received_at, done, done_at,"
                    " kind) VALUES (:e, '!r:x', '@a:x', 'q', 1, :at, :done, :done_at, 'text')"
                ),
                {"e": event_id, "at": now - timedelta(days=60), "done": done, "done_at": done_at},
            )
    assert await TransactionPruning(engine).prune() == 1
    async with engine.connect() as connection:
        left = (await connection.execute(text("SELECT event_id FROM inbox ORDER BY event_id"))).scalars().all()
    assert left == ["$old-unanswered", "$recent"]
