"""Per-chat sessions kept in memory: the conversation, and recent answers for replaying retried requests."""

import asyncio
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

CONTEXT_VERSION = 1
REMEMBERED_REQUESTS = 64

Role = Literal["user", "assistant"]


class InvalidContext(ValueError):
    """An import payload that is not an export of this agent."""


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: str


class _Context(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    messages: list[Turn]


@dataclass(frozen=True, kw_only=True)
class Answer:
    """What a completed request answered, kept so a retry of it is replayed, not answered again."""

    text: str
    files: tuple[str, ...] = ()


@dataclass(kw_only=True)
class Session:
    messages: list[Turn] = field(default_factory=list)
    answered: OrderedDict[str, Answer] = field(default_factory=OrderedDict)
    # One answer at a time per chat: turns never interleave, and a retry waits for the original.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def record(self, request_id: str | None, question: str, answer: Answer) -> None:
        self.messages.append(Turn(role="user", content=question))
        self.messages.append(Turn(role="assistant", content=answer.text))
        if request_id is None:
            return
        self.answered[request_id] = answer
        while len(self.answered) > REMEMBERED_REQUESTS:
            self.answered.popitem(last=False)

    def drop_last_turn(self) -> None:
        """Forgets the last question and its answer (a regenerated or edited turn takes their place)."""
        if len(self.messages) >= 2 and self.messages[-2].role == "user" and self.messages[-1].role == "assistant":
            del self.messages[-2:]

    def questions(self) -> list[str]:
        return [turn.content for turn in self.messages if turn.role == "user"]

    def answers(self) -> list[str]:
        return [turn.content for turn in self.messages if turn.role == "assistant"]


class SessionStore:
    """Sessions by platform_chat_id, created on first use."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, chat_id: str) -> Session:
        return self._sessions.setdefault(chat_id, Session())

    def drop(self, chat_id: str) -> None:
        self._sessions.pop(chat_id, None)

    def export(self, chat_id: str) -> str:
        session = self._sessions.get(chat_id)
        messages = [] if session is None else [turn.model_dump() for turn in session.messages]
        return json.dumps({"version": CONTEXT_VERSION, "messages": messages}, ensure_ascii=False)

    def replace(self, chat_id: str, payload: str) -> int:
        """Seeds the chat from an export; returns the number of messages."""
        try:
            context = _Context.model_validate_json(payload)
        except ValidationError as error:
            raise InvalidContext(f"not a context exported by this agent: {error.errors()[0]['msg']}") from error
        self._sessions[chat_id] = Session(messages=list(context.messages))
        return len(context.messages)
