"""Maps nio events to domain values; everything the bot does not act on maps to None."""

from typing import Any

from nio import Event, InviteMemberEvent, RoomMessageText, RoomNameEvent

from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText, Invitation, RoomEvent, RoomRenamed


def _is_edit(source: dict[str, Any]) -> bool:
    content = source.get("content")
    if not isinstance(content, dict):
        return False
    relates = content.get("m.relates_to")
    return isinstance(relates, dict) and relates.get("rel_type") == "m.replace"


def to_incoming_text(room_id: str, event: Event, own_user_id: str) -> IncomingText | None:
    """A plain text message from someone else; notices, edits and our own events are not."""
    if not isinstance(event, RoomMessageText) or event.sender == own_user_id:
        return None
    if _is_edit(event.source) or not isinstance(event.body, str):
        return None
    return IncomingText(
        event_id=EventId(event.event_id),
        room_id=RoomId(room_id),
        sender=UserId(event.sender),
        body=event.body,
        timestamp_ms=int(event.server_timestamp or 0),
    )


def to_invitation(room_id: str, events: list[Any], own_user_id: str) -> Invitation | None:
    """The invite of our user in an invite-state room, with who sent it."""
    for event in events:
        if isinstance(event, InviteMemberEvent) and event.state_key == own_user_id and event.membership == "invite":
            return Invitation(room_id=RoomId(room_id), inviter=UserId(event.sender))
    return None


def to_room_event(room_id: str, event: Event, own_user_id: str) -> RoomEvent | None:
    """A text message or a room rename; None for everything the bot does not act on."""
    if isinstance(event, RoomNameEvent) and isinstance(event.name, str):
        return RoomRenamed(
            event_id=EventId(event.event_id), room_id=RoomId(room_id), sender=UserId(event.sender), name=event.name
        )
    return to_incoming_text(room_id, event, own_user_id)


def reply_target(source: dict[str, Any]) -> EventId | None:
    """The event a message replies to (`m.relates_to.m.in_reply_to.event_id`), if any."""
    content = source.get("content")
    relates = content.get("m.relates_to") if isinstance(content, dict) else None
    in_reply_to = relates.get("m.in_reply_to") if isinstance(relates, dict) else None
    target = in_reply_to.get("event_id") if isinstance(in_reply_to, dict) else None
    return EventId(target) if isinstance(target, str) and target else None
