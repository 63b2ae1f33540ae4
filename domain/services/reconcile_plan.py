"""Pure decisions of reconciliation: which Space is each person's, which rooms collide, how a record becomes a room."""

from collections import defaultdict

from domain.model.context import ChatContext
from domain.model.ids import PlatformChatId, RoomId, UserId
from domain.model.observed import ObservedRoom, ObservedTopology, RoomRecord
from domain.model.reconciliation import ReconciliationReport
from domain.model.room import ChatRoom


def choose_spaces(observed: ObservedTopology, report: ReconciliationReport) -> dict[UserId, RoomId]:
    """One Space per owner; when Matrix holds several, the one most chats point at wins and it is a conflict."""
    candidates: dict[UserId, list[RoomId]] = defaultdict(list)
    for room in observed.rooms:
        if room.space_owner is not None:
            candidates[room.space_owner].append(room.room_id)
    pointing: dict[RoomId, int] = defaultdict(int)
    for room in observed.rooms:
        if room.record is not None:
            pointing[room.record.space_id] += 1
    chosen: dict[UserId, RoomId] = {}
    for owner, spaces in candidates.items():
        ordered = sorted(spaces, key=lambda space: (-pointing[space], space))
        chosen[owner] = ordered[0]
        if len(ordered) > 1:
            report.conflicts.append(f"{owner} has {len(ordered)} Spaces; using {ordered[0]}")
    return chosen


def shared_chat_ids(observed: ObservedTopology, report: ReconciliationReport) -> set[RoomId]:
    """Rooms whose platform_chat_id another room already uses: every one but the first gets a new id."""
    holders: dict[PlatformChatId, list[RoomId]] = defaultdict(list)
    for room in observed.rooms:
        if room.record is not None:
            holders[room.record.platform_chat_id].append(room.room_id)
    rotate: set[RoomId] = set()
    for chat_id, rooms in holders.items():
        if len(rooms) > 1:
            keep, *others = sorted(rooms)
            rotate.update(others)
            report.conflicts.append(f"{len(rooms)} rooms share {chat_id}; {keep} keeps it")
    return rotate


def to_chat_room(seen: ObservedRoom, record: RoomRecord, stored: ChatRoom | None) -> ChatRoom:
    """The room as Matrix describes it; what Matrix cannot hold (counts, notice flag) comes from the index."""
    return ChatRoom(
        room_id=seen.room_id,
        owner=record.owner,
        space_id=record.space_id,
        chat_number=record.chat_number,
        name=seen.name or (stored.name if stored else f"C{record.chat_number}"),
        context=ChatContext(agent_id=record.agent_id, platform_chat_id=record.platform_chat_id),
        status=record.status,
        message_count=stored.message_count
        if stored and stored.context.platform_chat_id == record.platform_chat_id
        else 0,
        archived_notice_sent=stored.archived_notice_sent if stored else False,
    )
