"""The history an adapter keeps in our database for an agent that remembers nothing itself."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from domain.model.ids import PlatformChatId

TranscriptRole = Literal["user", "assistant"]


@dataclass(frozen=True, kw_only=True)
class TranscriptEntry:
    """One message of a conversation, as sent to or received from the agent."""

    role: TranscriptRole
    content: str


class TranscriptRepository(Protocol):
    """Each platform_chat_id's messages in the order they were appended; kept only when the unit of work commits."""

    async def append(self, chat_id: PlatformChatId, role: TranscriptRole, content: str) -> None: ...

    async def history(self, chat_id: PlatformChatId) -> list[TranscriptEntry]:
        """The chat's messages, oldest first; empty for a chat never seen."""
        ...

    async def replace(self, chat_id: PlatformChatId, entries: Sequence[TranscriptEntry]) -> None:
        """The chat's transcript becomes exactly `entries` (seeding a chat from a saved context)."""
        ...

    async def delete(self, chat_id: PlatformChatId) -> None:
        """Forgets the chat's transcript; nothing happens for a chat never seen."""
        ...
