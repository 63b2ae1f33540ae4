"""The outcome of rebuilding the index from Matrix: what was restored, repaired, orphaned or in conflict."""

from dataclasses import dataclass, field
from enum import StrEnum

from domain.model.ids import RoomId


class RepairKind(StrEnum):
    CHILD_LINKED = "child_linked"  # an active chat was missing from its Space
    CHILD_UNLINKED = "child_unlinked"  # an archived chat was still listed in its Space
    PARENT_LINKED = "parent_linked"  # a chat had lost its canonical m.space.parent
    CHAT_ID_ROTATED = "chat_id_rotated"  # two rooms shared a platform_chat_id


@dataclass(frozen=True, kw_only=True)
class Repair:
    kind: RepairKind
    room_id: RoomId
    space_id: RoomId


@dataclass(kw_only=True)
class ReconciliationReport:
    dry_run: bool
    spaces_restored: list[RoomId] = field(default_factory=list)
    rooms_restored: list[RoomId] = field(default_factory=list)  # index rows created or corrected from Matrix
    repaired: list[Repair] = field(default_factory=list)
    orphaned: list[RoomId] = field(default_factory=list)  # index rows whose room the bot is no longer in
    conflicts: list[str] = field(default_factory=list)
    untouched: list[RoomId] = field(default_factory=list)  # joined rooms with no surfaces state
    rooms_seen: int = 0
