"""Files waiting in their room for its next text message."""

from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import Row, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import STAGED_FILES, StagedFileRow
from domain.model.attachment import Attachment
from domain.model.ids import EventId, RoomId
from domain.model.staged_file import StagedFile
from ports.staged_files import StagedFileRepository


class SqlAlchemyStagedFileRepository(StagedFileRepository):
    """`StagedFileRepository` over one `AsyncSession`; the unit of work commits, never this."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, staged: StagedFile) -> None:
        # merge: staging the same event again (a retry after a crash) keeps one row.
        await self._session.merge(_to_row(staged))

    async def for_room(self, room_id: RoomId) -> list[StagedFile]:
        staged = [_to_domain(row) for row in await self._session.execute(_FOR_ROOM, {"b_room_id": room_id})]
        # Sorted here rather than in SQL: PostgreSQL compares text by the database's locale.
        return sorted(staged, key=lambda file: (file.timestamp_ms, file.event_id))

    async def remove(self, room_id: RoomId, event_ids: Iterable[EventId]) -> None:
        ids = list(event_ids)
        if ids:
            await self._session.execute(
                delete(StagedFileRow).where(StagedFileRow.room_id == room_id, StagedFileRow.event_id.in_(ids))
            )


# Built once: run for every message bound for an agent (see tables.STAGED_FILES).
_FOR_ROOM: Final = select(STAGED_FILES).where(STAGED_FILES.c.room_id == bindparam("b_room_id"))


def _to_row(staged: StagedFile) -> StagedFileRow:
    attachment = staged.attachment
    return StagedFileRow(
        room_id=staged.room_id,
        event_id=staged.event_id,
        kind=attachment.kind,
        filename=attachment.filename,
        mime_type=attachment.mime_type,
        size=attachment.size,
        workspace_path=attachment.workspace_path,
        timestamp_ms=staged.timestamp_ms,
    )


def _to_domain(row: StagedFileRow | Row[Any]) -> StagedFile:
    return StagedFile(
        room_id=RoomId(row.room_id),
        event_id=EventId(row.event_id),
        attachment=Attachment(
            kind=row.kind,
            filename=row.filename,
            mime_type=row.mime_type,
            size=row.size,
            workspace_path=row.workspace_path,
        ),
        timestamp_ms=row.timestamp_ms,
    )
