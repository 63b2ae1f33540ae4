"""Request bodies of the contract (docs/platform-contract.md); unknown fields are ignored, as it says."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AttachmentIn(_Body):
    workspace_path: str = Field(min_length=1)
    filename: str
    mime_type: str
    size: int = Field(ge=0)
    kind: Literal["file", "image", "audio", "video"]


class MessageIn(_Body):
    request_id: str | None = None
    agent_id: str
    text: str
    sender: str
    attachments: list[AttachmentIn] = Field(default_factory=list)
    # Regenerate or edit: this message and its answer take the place of the chat's last turn.
    replaces_last_turn: bool = False


class ContextIn(_Body):
    payload: str


class TitleIn(_Body):
    question: str
    answer: str
