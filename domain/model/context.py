"""The binding between a chat room and one upstream conversation."""

import uuid
from dataclasses import dataclass

from domain.model.ids import AgentId, PlatformChatId


def new_platform_chat_id() -> PlatformChatId:
    # UUID4 so that ids are globally unique and never reused, even when the
    # database is lost and rebuilt from Matrix: two rooms can never share one.
    return PlatformChatId(f"pc-{uuid.uuid4()}")


@dataclass(frozen=True, kw_only=True)
class ChatContext:
    """Which agent a room talks to, and under which upstream conversation id."""

    agent_id: AgentId
    platform_chat_id: PlatformChatId

    @classmethod
    def fresh(cls, agent_id: AgentId) -> "ChatContext":
        return cls(agent_id=agent_id, platform_chat_id=new_platform_chat_id())

    def rotated(self) -> "ChatContext":
        return ChatContext.fresh(self.agent_id)
