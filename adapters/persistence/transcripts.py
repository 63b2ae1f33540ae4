"""Conversation transcripts for adapters that keep history locally (the openai adapter)."""

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import TranscriptRow
from domain.model.ids import PlatformChatId
from ports.transcripts import TranscriptEntry, TranscriptRepository, TranscriptRole


class SqlAlchemyTranscriptRepository(TranscriptRepository):
    """`TranscriptRepository` over one `AsyncSession`; the unit of work commits, never this.

    Rows are numbered per chat (`seq` from 1). Core statements only, so no ORM object is cached
    in the session to go stale between a `replace` and a later read.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, chat_id: PlatformChatId, role: TranscriptRole, content: str) -> None:
        # Two tasks appending to one chat at once would collide on the primary key and one would fail:
        # the bot answers one message per room at a time, so that is a bug worth failing loudly on.
        last = await self._session.scalar(
            select(func.coalesce(func.max(TranscriptRow.seq), 0)).where(TranscriptRow.chat_id == chat_id)
        )
        values = {"chat_id": chat_id, "seq": (last or 0) + 1, "role": role, "content": content}
        await self._session.execute(insert(TranscriptRow).values(values))

    async def history(self, chat_id: PlatformChatId) -> list[TranscriptEntry]:
        query = (
            select(TranscriptRow.role, TranscriptRow.content)
            .where(TranscriptRow.chat_id == chat_id)
            .order_by(TranscriptRow.seq)
        )
        rows = await self._session.execute(query)
        return [TranscriptEntry(role=_role(role), content=content) for role, content in rows]

    async def replace(self, chat_id: PlatformChatId, entries: Sequence[TranscriptEntry]) -> None:
        await self.delete(chat_id)
        if not entries:
            return
        rows = [
            {"chat_id": chat_id, "seq": seq, "role": entry.role, "content": entry.content}
            for seq, entry in enumerate(entries, 1)
        ]
        await self._session.execute(insert(TranscriptRow), rows)

    async def delete(self, chat_id: PlatformChatId) -> None:
        await self._session.execute(delete(TranscriptRow).where(TranscriptRow.chat_id == chat_id))


def _role(value: str) -> TranscriptRole:
    if value == "user":
        return "user"
    if value == "assistant":
        return "assistant"
    raise ValueError(f"unknown transcript role {value!r}")
