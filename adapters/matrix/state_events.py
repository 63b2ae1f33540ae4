"""The surfaces state events of SPEC §3 and the Space link events, as JSON content and back."""

import re
from typing import Any, Final

from domain.model.ids import AgentId, PlatformChatId, RoomId, UserId
from domain.model.observed import RoomRecord
from domain.model.room import STATE_VERSION, ChatRoom, RoomStatus
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


# -- reading: content from the network is untrusted; anything malformed reads as None ------------

ROOM_NAME: Final = "m.room.name"
TRACKED_TYPES: Final = frozenset({ROOM_NAME, SPACE_STATE, ROOM_STATE, SPACE_CHILD, SPACE_PARENT})
_CHAT_ID = re.compile(r"C([1-9][0-9]{0,8})")


def _text(content: dict[str, Any], key: str, prefix: str = "") -> str | None:
    value = content.get(key)
    if isinstance(value, str) and value.startswith(prefix) and len(value) > len(prefix):
        return value
    return None


def parse_name(content: Any) -> str | None:
    return _text(content, "name") if isinstance(content, dict) else None


def parse_space_owner(content: Any) -> UserId | None:
    """The owner of a Space from its `dev.surfaces.space` content."""
    owner = _text(content, "owner", "@") if isinstance(content, dict) else None
    return UserId(owner) if owner is not None else None


def has_via(content: Any) -> bool:
    """A live `m.space.child` / `m.space.parent` link: an empty or via-less content removes it."""
    if not isinstance(content, dict):
        return False
    via = content.get("via")
    return isinstance(via, list) and len(via) > 0


def parse_room_record(content: Any) -> RoomRecord | None:
    """The `dev.surfaces.room` content, every field checked; None when any is missing or malformed."""
    if not isinstance(content, dict):
        return None
    owner, space_id = _text(content, "owner", "@"), _text(content, "space_id", "!")
    agent_id, platform_chat_id = _text(content, "agent_id"), _text(content, "platform_chat_id")
    chat_id, status = content.get("chat_id"), content.get("status")
    chat = _CHAT_ID.fullmatch(chat_id) if isinstance(chat_id, str) else None
    if owner is None or space_id is None or agent_id is None or platform_chat_id is None or chat is None:
        return None
    if not isinstance(status, str) or status not in {s.value for s in RoomStatus}:
        return None
    return RoomRecord(
        owner=UserId(owner),
        space_id=RoomId(space_id),
        chat_number=int(chat.group(1)),
        agent_id=AgentId(agent_id),
        platform_chat_id=PlatformChatId(platform_chat_id),
        status=RoomStatus(status),
    )
