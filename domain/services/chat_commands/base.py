"""What every command handler receives and how it reports a user error."""

from dataclasses import dataclass
from typing import Protocol

from domain.model.messages import IncomingText
from domain.model.room import ChatRoom


@dataclass(frozen=True, kw_only=True)
class CommandRequest:
    message: IncomingText
    room: ChatRoom | None  # None in a lobby (a room that is not one of the person's chats)
    args: str


class CommandError(Exception):
    """A mistake the person made; nothing was changed. Carries a catalog key and its values."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class CommandHandler(Protocol):
    """Carries out one command and returns the Markdown answer."""

    async def execute(self, request: CommandRequest) -> str: ...


def chat_room(request: CommandRequest) -> ChatRoom:
    if request.room is None:
        raise CommandError("only_in_chat")
    return request.room


def one_line(text: str, limit: int, key: str) -> str:
    """A single-line argument of bounded length, surrounding blanks removed."""
    value = text.strip()
    if "\n" in value or len(value) > limit or any(ord(c) < 32 for c in value):
        raise CommandError(key, limit=limit)
    return value
