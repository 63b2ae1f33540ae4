"""A saved conversation context that its owner can load into any of their rooms."""

from dataclasses import dataclass

from domain.model.ids import AgentId, PlatformChatId, UserId


@dataclass(kw_only=True)
class Snapshot:
    """`payload` is opaque to the domain: whatever the agent's adapter exported."""

    owner: UserId
    label: str
    agent_id: AgentId
    source_chat_id: PlatformChatId
    payload: str
    message_count: int = 0
    created_at_ms: int = 0
