"""In-memory repositories over a shared `FakeStore`: changes are staged per unit of work and
reach the store only on commit, so they behave like the database adapters."""

import copy
import itertools
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from domain.model.ids import EventId, PlatformChatId, RoomId, UserId
from domain.model.messages import Invitation
from domain.model.room import ChatRoom
from domain.model.snapshot import Snapshot
from domain.model.space import UserSpace
from domain.model.staged_file import StagedFile
from domain.model.turn import LatestTurn
from ports.inbox import Inbox, InboxItem
from ports.rooms import RoomRepository
from ports.snapshots import SnapshotRepository
from ports.spaces import SpaceRepository
from ports.staged_files import StagedFileRepository
from ports.sync_state import SyncState
from ports.transactions import TransactionLog
from ports.transcripts import TranscriptEntry

K = TypeVar("K")
V = TypeVar("V")


class FakeConflictError(Exception):
    """Raised at commit where a database would raise an integrity error."""


@dataclass(frozen=True, kw_only=True)
class FakeInboxEntry:
    message: InboxItem
    received: int
    done: bool = False


@dataclass(kw_only=True)
class FakeStore:
    """Committed state, shared by every fake unit of work made over it."""

    spaces: dict[UserId, UserSpace] = field(default_factory=dict)
    rooms: dict[RoomId, ChatRoom] = field(default_factory=dict)
    inbox: dict[EventId, FakeInboxEntry] = field(default_factory=dict)
    sync_token: str | None = None
    transactions: set[str] = field(default_factory=set)
    invitations: dict[RoomId, Invitation] = field(default_factory=dict)
    snapshots: dict[tuple[UserId, str], Snapshot] = field(default_factory=dict)
    staged: dict[tuple[RoomId, EventId], StagedFile] = field(default_factory=dict)
    receipts: Iterator[int] = field(default_factory=itertools.count)
    transcripts: dict[PlatformChatId, list[TranscriptEntry]] = field(default_factory=dict)
    turns: dict[RoomId, LatestTurn] = field(default_factory=dict)


class _Staged(Generic[K, V]):
    """Committed entities plus this transaction's changes; hands out copies, as a database
    hands out fresh objects, so mutating an entity without `save` changes nothing."""

    def __init__(self, committed: dict[K, V]) -> None:
        self._committed = committed
        self._changes: dict[K, V] = {}
        self.duplicates: list[K] = []

    def get(self, key: K) -> V | None:
        value = self._changes.get(key, self._committed.get(key))
        return None if value is None else copy.copy(value)

    def add(self, key: K, value: V) -> None:
        if key in self._changes or key in self._committed:
            self.duplicates.append(key)
        self._changes[key] = copy.copy(value)

    def put(self, key: K, value: V) -> None:
        self._changes[key] = copy.copy(value)

    def values(self) -> list[V]:
        return [copy.copy(value) for value in {**self._committed, **self._changes}.values()]

    def apply(self) -> None:
        self._committed.update(self._changes)
        self.discard()

    def discard(self) -> None:
        self._changes.clear()
        self.duplicates.clear()


def _require_unique(kind: str, keys: Iterable[Hashable | None]) -> None:
    present = [key for key in keys if key is not None]
    if len(present) != len(set(present)):
        raise FakeConflictError(f"duplicate {kind}")


class FakeSpaceRepository(SpaceRepository):
    def __init__(self, store: FakeStore) -> None:
        self._spaces = _Staged(store.spaces)

    async def get(self, owner: UserId) -> UserSpace | None:
        return self._spaces.get(owner)

    async def add(self, space: UserSpace) -> None:
        self._spaces.add(space.owner, space)

    async def save(self, space: UserSpace) -> None:
        self._spaces.put(space.owner, space)

    def check(self) -> None:
        if self._spaces.duplicates:
            raise FakeConflictError(f"space already exists: {self._spaces.duplicates}")
        _require_unique("space_id", [space.space_id for space in self._spaces.values()])

    def apply(self) -> None:
        self._spaces.apply()

    def discard(self) -> None:
        self._spaces.discard()

    async def list(self) -> list[UserSpace]:
        return sorted(self._spaces.values(), key=lambda space: space.owner)


class FakeRoomRepository(RoomRepository):
    def __init__(self, store: FakeStore) -> None:
        self._rooms = _Staged(store.rooms)

    async def get(self, room_id: RoomId) -> ChatRoom | None:
        return self._rooms.get(room_id)

    async def add(self, room: ChatRoom) -> None:
        self._rooms.add(room.room_id, room)

    async def save(self, room: ChatRoom) -> None:
        self._rooms.put(room.room_id, room)

    async def count_answer(self, room_id: RoomId) -> None:
        room = self._rooms.get(room_id)
        if room is not None:
            self._rooms.put(room_id, replace(room, message_count=room.message_count + 1))

    async def for_owner(self, owner: UserId) -> list[ChatRoom]:
        mine = [room for room in self._rooms.values() if room.owner == owner]
        return sorted(mine, key=lambda room: (room.chat_number, room.room_id))

    async def all(self) -> list[ChatRoom]:
        return sorted(self._rooms.values(), key=lambda room: (room.owner, room.chat_number, room.room_id))

    def check(self) -> None:
        if self._rooms.duplicates:
            raise FakeConflictError(f"room already exists: {self._rooms.duplicates}")
        chat_ids = [room.context.platform_chat_id for room in self._rooms.values()]
        _require_unique("platform_chat_id", chat_ids)

    def apply(self) -> None:
        self._rooms.apply()

    def discard(self) -> None:
        self._rooms.discard()


class FakeSnapshotRepository(SnapshotRepository):
    def __init__(self, store: FakeStore) -> None:
        self._snapshots = _Staged(store.snapshots)

    async def get(self, owner: UserId, label: str) -> Snapshot | None:
        return self._snapshots.get((owner, label))

    async def save(self, snapshot: Snapshot) -> None:
        self._snapshots.put((snapshot.owner, snapshot.label), snapshot)

    async def for_owner(self, owner: UserId) -> list[Snapshot]:
        mine = [snapshot for snapshot in self._snapshots.values() if snapshot.owner == owner]
        return sorted(mine, key=lambda snapshot: snapshot.label)

    def apply(self) -> None:
        self._snapshots.apply()

    def discard(self) -> None:
        self._snapshots.discard()


class FakeInbox(Inbox):
    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._new: dict[EventId, FakeInboxEntry] = {}
        self._done: set[EventId] = set()

    async def record(self, message: InboxItem) -> bool:
        if self._entry(message.event_id) is not None:
            return False
        received = next(self._store.receipts)
        self._new[message.event_id] = FakeInboxEntry(message=message, received=received)
        return True

    async def is_done(self, event_id: EventId) -> bool:
        entry = self._entry(event_id)
        return entry is not None and entry.done

    async def mark_done(self, event_id: EventId) -> None:
        if self._entry(event_id) is not None:
            self._done.add(event_id)

    async def pending(self, room_id: RoomId | None = None) -> list[InboxItem]:
        entries = [self._entry(event_id) for event_id in {**self._store.inbox, **self._new}]
        waiting = [
            entry
            for entry in entries
            if entry is not None and not entry.done and (room_id is None or entry.message.room_id == room_id)
        ]
        waiting.sort(key=lambda entry: (entry.message.timestamp_ms, entry.received))
        return [entry.message for entry in waiting]

    def apply(self) -> None:
        for event_id in [*self._new, *self._done]:
            entry = self._entry(event_id)
            if entry is not None:
                self._store.inbox[event_id] = entry
        self.discard()

    def discard(self) -> None:
        self._new.clear()
        self._done.clear()

    def _entry(self, event_id: EventId) -> FakeInboxEntry | None:
        entry = self._store.inbox.get(event_id) or self._new.get(event_id)
        if entry is not None and event_id in self._done:
            return replace(entry, done=True)
        return entry


class FakeStagedFileRepository(StagedFileRepository):
    """Additions and removals staged per unit of work, applied to the store on commit."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._added: dict[tuple[RoomId, EventId], StagedFile] = {}
        self._removed: set[tuple[RoomId, EventId]] = set()

    async def add(self, staged: StagedFile) -> None:
        key = (staged.room_id, staged.event_id)
        self._removed.discard(key)
        self._added[key] = staged

    async def for_room(self, room_id: RoomId) -> list[StagedFile]:
        current = {**self._store.staged, **self._added}
        mine = [staged for key, staged in current.items() if key[0] == room_id and key not in self._removed]
        return sorted(mine, key=lambda staged: (staged.timestamp_ms, staged.event_id))

    async def remove(self, room_id: RoomId, event_ids: Iterable[EventId]) -> None:
        for event_id in event_ids:
            self._added.pop((room_id, event_id), None)
            self._removed.add((room_id, event_id))

    def apply(self) -> None:
        for key in self._removed:
            self._store.staged.pop(key, None)
        self._store.staged.update(self._added)
        self.discard()

    def discard(self) -> None:
        self._added.clear()
        self._removed.clear()


class FakeTransactionLog(TransactionLog):
    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.discard()

    async def claim(self, txn_id: str) -> bool:
        if txn_id in self._store.transactions or txn_id in self._staged:
            return False
        self._staged.add(txn_id)
        return True

    async def keep_invitation(self, invitation: Invitation) -> None:
        self._staged_invitations[invitation.room_id] = invitation

    async def invitations(self) -> list[Invitation]:
        return list({**self._store.invitations, **self._staged_invitations}.values())

    def apply(self) -> None:
        self._store.transactions |= self._staged
        self._store.invitations.update(self._staged_invitations)
        self.discard()

    def discard(self) -> None:
        self._staged = set()
        self._staged_invitations: dict[RoomId, Invitation] = {}


class FakeSyncState(SyncState):
    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._staged: str | None = None

    async def get_token(self) -> str | None:
        return self._staged if self._staged is not None else self._store.sync_token

    async def set_token(self, token: str) -> None:
        self._staged = token

    def apply(self) -> None:
        if self._staged is not None:
            self._store.sync_token = self._staged
        self.discard()

    def discard(self) -> None:
        self._staged = None
