"""The surfaces state events of SPEC §3 and the Space link events, as JSON content."""

from typing import Any, Final

from domain.model.room import STATE_VERSION, ChatRoom
from domain.model.space import UserSpace

SPACE_STATE: Final = "dev.surfaces.space"
ROOM_STATE: Final = "dev.surfaces.room"
SPACE_CHILD: Final = "m.space.child"
SPACE_PARENT: Final = "m.space.parent"


def space_content(space: UserSpace) -> dict[str, Any]:
    return {"owner": space.owner, "version": STATE_VERSION}


def room_content(room: ChatRoom) -> dict[str, Any]:
    return {
        "owner": room.owner,
        "space_id": room.space_id,
        "chat_id": room.chat_id,
        "agent_id": room.context.agent_id,
        "platform_chat_id": room.context.platform_chat_id,
        "status": room.status.value,
        "version": STATE_VERSION,
    }


def child_content(server_name: str) -> dict[str, Any]:
    return {"via": [server_name]}


def parent_content(server_name: str) -> dict[str, Any]:
    return {"via": [server_name], "canonical": True}


def state_event(event_type: str, content: dict[str, Any], state_key: str = "") -> dict[str, Any]:
    return {"type": event_type, "state_key": state_key, "content": content}
