"""In-memory transcripts over the shared `FakeStore`, staged per unit of work like the other fakes."""

from collections.abc import Sequence

from domain.model.ids import PlatformChatId
from ports.transcripts import TranscriptEntry, TranscriptRepository, TranscriptRole
from tests.unit.fakes.repositories import FakeStore


class FakeTranscriptRepository(TranscriptRepository):
    def __init__(self, store: FakeStore) -> None:
        self._committed = store.transcripts
        # A changed chat's whole transcript, copied on first write; committed by apply().
        self._changes: dict[PlatformChatId, list[TranscriptEntry]] = {}

    async def append(self, chat_id: PlatformChatId, role: TranscriptRole, content: str) -> None:
        self._changed(chat_id).append(TranscriptEntry(role=role, content=content))

    async def history(self, chat_id: PlatformChatId) -> list[TranscriptEntry]:
        return list(self._changes.get(chat_id, self._committed.get(chat_id, [])))

    async def replace(self, chat_id: PlatformChatId, entries: Sequence[TranscriptEntry]) -> None:
        self._changes[chat_id] = list(entries)

    async def delete(self, chat_id: PlatformChatId) -> None:
        self._changes[chat_id] = []

    def apply(self) -> None:
        for chat_id, entries in self._changes.items():
            if entries:
                self._committed[chat_id] = entries
            else:
                self._committed.pop(chat_id, None)
        self.discard()

    def discard(self) -> None:
        self._changes.clear()

    def _changed(self, chat_id: PlatformChatId) -> list[TranscriptEntry]:
        if chat_id not in self._changes:
            self._changes[chat_id] = list(self._committed.get(chat_id, []))
        return self._changes[chat_id]
