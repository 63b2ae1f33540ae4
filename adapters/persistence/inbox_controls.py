"""Reactions and edits in the inbox: their kinds and payloads (the message kinds are in `inbox.py`)."""

import json
from typing import Any, Final, Protocol

from domain.model.controls import ControlMessage, QuestionEdited, Reaction
from domain.model.ids import EventId, RoomId, UserId

REACTION: Final = "reaction"
EDIT: Final = "edit"
CONTROL_KINDS: Final = frozenset({REACTION, EDIT})


class _Row(Protocol):
    event_id: str
    room_id: str
    sender: str
    body: str
    timestamp_ms: int


def control_kind_and_payload(control: ControlMessage) -> dict[str, Any]:
    if isinstance(control, Reaction):
        return {"kind": REACTION, "payload": json.dumps({"reacts_to": control.reacts_to, "key": control.key})}
    return {"kind": EDIT, "payload": json.dumps({"edits": control.edits})}


def control_from_row(kind: str, payload: str | None, row: _Row) -> ControlMessage:
    details = json.loads(payload or "{}")
    event_id, room_id, sender = EventId(row.event_id), RoomId(row.room_id), UserId(row.sender)
    if kind == REACTION:
        reacts_to, key = EventId(details["reacts_to"]), details["key"]
        return Reaction(
            event_id=event_id,
            room_id=room_id,
            sender=sender,
            reacts_to=reacts_to,
            key=key,
            timestamp_ms=row.timestamp_ms,
        )
    edits = EventId(details["edits"])
    return QuestionEdited(
        event_id=event_id, room_id=room_id, sender=sender, edits=edits, body=row.body, timestamp_ms=row.timestamp_ms
    )
