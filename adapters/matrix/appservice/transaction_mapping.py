"""A pushed transaction's raw events, mapped with the sync mode's event mapping: what the bot acts on."""

import logging
from dataclasses import dataclass, field
from typing import Any

from nio import Event, InviteEvent

from adapters.matrix.event_mapping import to_invitation, to_room_event
from domain.model.ids import RoomId
from domain.model.messages import EncryptedMessage, Invitation, RoomEvent

log = logging.getLogger(__name__)

ENCRYPTION_EVENT = "m.room.encryption"


@dataclass(kw_only=True)
class MappedTransaction:
    events: list[RoomEvent] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)
    # Rooms whose messages arrived encrypted (or whose invite says so): not answered in this mode.
    encrypted_rooms: list[RoomId] = field(default_factory=list)


def map_transaction(raw_events: list[Any], own_user_id: str) -> MappedTransaction:
    """Texts, files and renames in order; invites of the bot; anything malformed or not ours is left out."""
    mapped = MappedTransaction()
    for raw in raw_events:
        if not isinstance(raw, dict) or not isinstance(raw.get("room_id"), str) or not isinstance(raw.get("type"), str):
            continue
        room_id: str = raw["room_id"]
        if raw["type"] == "m.room.member":
            _map_invite(mapped, room_id, raw, own_user_id)
            continue
        event = Event.parse_event(raw)
        room_event = to_room_event(room_id, event, own_user_id) if isinstance(event, Event) else None
        if isinstance(room_event, EncryptedMessage):
            mapped.encrypted_rooms.append(RoomId(room_id))
        elif room_event is not None:
            mapped.events.append(room_event)
    return mapped


def _map_invite(mapped: MappedTransaction, room_id: str, raw: dict[str, Any], own_user_id: str) -> None:
    invitation = to_invitation(room_id, [InviteEvent.parse_event(dict(raw))], own_user_id)
    if invitation is None:
        return
    if _invite_says_encrypted(raw):
        mapped.encrypted_rooms.append(RoomId(room_id))
    else:
        mapped.invitations.append(invitation)


def _invite_says_encrypted(raw: dict[str, Any]) -> bool:
    """The room's stripped state sent with the invite (`unsigned.invite_room_state`) holds `m.room.encryption`."""
    unsigned = raw.get("unsigned")
    stripped = unsigned.get("invite_room_state") if isinstance(unsigned, dict) else None
    if not isinstance(stripped, list):
        return False
    return any(isinstance(state, dict) and state.get("type") == ENCRYPTION_EVENT for state in stripped)
