"""A request to an agent and the stream of events that answers it."""

from dataclasses import dataclass, field

from domain.model.attachment import Attachment
from domain.model.ids import AgentId, PlatformChatId, UserId


@dataclass(frozen=True, kw_only=True)
class AgentRequest:
    agent_id: AgentId
    platform_chat_id: PlatformChatId
    text: str
    sender: UserId
    attachments: tuple[Attachment, ...] = field(default=())
    # The user's event id: lets the platform recognise a retried request (see docs/platform-contract.md).
    request_id: str | None = None
    # Regenerate or edit: this question and its answer take the place of the conversation's last turn.
    replaces_last_turn: bool = False


@dataclass(frozen=True, kw_only=True)
class TextDelta:
    text: str


@dataclass(frozen=True, kw_only=True)
class FileEmitted:
    workspace_path: str


@dataclass(frozen=True, kw_only=True)
class Done:
    pass


@dataclass(frozen=True, kw_only=True)
class AgentFailed:
    message: str


AgentEvent = TextDelta | FileEmitted | Done | AgentFailed
