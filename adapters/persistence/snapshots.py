"""Saved conversation contexts, one per (owner, label)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import SNAPSHOTS, SnapshotRow
from adapters.persistence.upsert import upsert
from domain.model.ids import AgentId, PlatformChatId, UserId
from domain.model.snapshot import Snapshot
from ports.snapshots import SnapshotRepository


class SqlAlchemySnapshotRepository(SnapshotRepository):
    """`SnapshotRepository` over one `AsyncSession`; the unit of work commits, never this."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, owner: UserId, label: str) -> Snapshot | None:
        row = await self._session.get(SnapshotRow, (owner, label), populate_existing=True)
        return None if row is None else _to_domain(row)

    async def save(self, snapshot: Snapshot) -> None:
        values = _values(snapshot)
        # One statement instead of merge's SELECT-then-write: the old payload, possibly large, is never loaded.
        # It bypasses the session's identity map, so the reads below use populate_existing rather than trust a
        # row the session may still hold from before.
        dialect = self._session.get_bind().dialect.name
        statement = upsert(dialect, SNAPSHOTS, values, ["owner", "label"])
        if statement is None:
            await self._session.merge(SnapshotRow(**values))
            return
        await self._session.execute(statement)

    async def for_owner(self, owner: UserId) -> list[Snapshot]:
        query = select(SnapshotRow).where(SnapshotRow.owner == owner).execution_options(populate_existing=True)
        snapshots = [_to_domain(row) for row in await self._session.scalars(query)]
        # Sorted here rather than in SQL: PostgreSQL compares text by the database's locale,
        # which need not be the code point order SQLite and the fake use.
        return sorted(snapshots, key=lambda snapshot: snapshot.label)


def _values(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "owner": snapshot.owner,
        "label": snapshot.label,
        "agent_id": snapshot.agent_id,
        "source_chat_id": snapshot.source_chat_id,
        "payload": snapshot.payload,
        "message_count": snapshot.message_count,
        "created_at_ms": snapshot.created_at_ms,
    }


def _to_domain(row: SnapshotRow) -> Snapshot:
    return Snapshot(
        owner=UserId(row.owner),
        label=row.label,
        agent_id=AgentId(row.agent_id),
        source_chat_id=PlatformChatId(row.source_chat_id),
        payload=row.payload,
        message_count=row.message_count,
        created_at_ms=row.created_at_ms,
    )
