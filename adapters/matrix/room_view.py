"""One room as reconciliation reads it, built from raw state and timeline events: shared by both transports.

Sync mode folds `/sync` responses in (state_view.py); appservice mode reads `/state` and `/messages` per room
(appservice/room_state_reader.py). Both parse Matrix state and answers here, so they read it identically.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from adapters.matrix import state_events as se
from adapters.matrix.event_mapping import reply_target
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import UserMessage
from domain.model.observed import ObservedRoom, RoomRecord

log = logging.getLogger(__name__)

# Replies seen per room; older ones fall out, so a long-running bot's memory stays flat. Only the
# replies to a room's recent timeline matter, and that timeline is at most one sync's worth.
ANSWERED_PER_ROOM: Final = 1_000


@dataclass
class RoomView:
    """The parsed state of one room: only what reconciliation reads, for 1,000+ rooms."""

    name: str | None = None
    space_owner: UserId | None = None
    record: RoomRecord | None = None
    children: set[RoomId] = field(default_factory=set)
    parents: set[RoomId] = field(default_factory=set)
    recent: tuple[UserMessage, ...] = ()
    answered: dict[EventId, None] = field(default_factory=dict)  # insertion-ordered set

    def observed(self, room_id: RoomId) -> ObservedRoom:
        return ObservedRoom(
            room_id=room_id,
            name=self.name,
            space_owner=self.space_owner,
            record=self.record,
            children=frozenset(self.children),
            parents=frozenset(self.parents),
            recent=self.recent,
            answered=frozenset(self.answered),
        )


def apply_state(room: RoomView, room_id: str, source: dict[str, Any]) -> None:
    """One event's effect on the room's state, when it is a state event reconciliation reads (later wins)."""
    event_type, state_key = source.get("type"), source.get("state_key")
    if event_type not in se.TRACKED_TYPES or not isinstance(state_key, str):
        return  # not a state event, or one reconciliation does not read
    content = source.get("content")
    if event_type == se.ROOM_NAME and state_key == "":
        room.name = se.parse_name(content)
    elif event_type == se.SPACE_STATE and state_key == "":
        room.space_owner = se.parse_space_owner(content)
        if room.space_owner is None:
            log.warning("room_state_malformed", extra={"room_id": room_id, "event_type": event_type})
    elif event_type == se.ROOM_STATE and state_key == "":
        room.record = se.parse_room_record(content)
        if room.record is None:
            log.warning("room_state_malformed", extra={"room_id": room_id, "event_type": event_type})
    elif event_type in (se.SPACE_CHILD, se.SPACE_PARENT) and state_key:
        links = room.children if event_type == se.SPACE_CHILD else room.parents
        if se.has_via(content):
            links.add(RoomId(state_key))
        else:
            links.discard(RoomId(state_key))


def note_answers(room: RoomView, sources: Iterable[dict[str, Any]], own_user_id: str) -> None:
    """Remembers which events the bot's own messages among `sources` (oldest first) reply to."""
    for source in sources:
        target = reply_target(source) if source.get("sender") == own_user_id else None
        if target is None:
            continue
        room.answered.pop(target, None)
        room.answered[target] = None
        if len(room.answered) > ANSWERED_PER_ROOM:
            del room.answered[next(iter(room.answered))]
