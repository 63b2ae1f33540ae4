"""A unit of work over in-memory repositories: commit copies the staged changes into the
shared `FakeStore`, anything else discards them."""

from types import TracebackType
from typing import Protocol, Self

from ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from tests.unit.fakes.repositories import (
    FakeConflictError,
    FakeInbox,
    FakeInboxEntry,
    FakeRoomRepository,
    FakeSnapshotRepository,
    FakeSpaceRepository,
    FakeStagedFileRepository,
    FakeStore,
    FakeSyncState,
    FakeTransactionLog,
)
from tests.unit.fakes.transcripts import FakeTranscriptRepository
from tests.unit.fakes.turns import FakeLatestTurnRepository

__all__ = [
    "FakeConflictError",
    "FakeInbox",
    "FakeInboxEntry",
    "FakeRoomRepository",
    "FakeSnapshotRepository",
    "FakeSpaceRepository",
    "FakeStagedFileRepository",
    "FakeStore",
    "FakeSyncState",
    "FakeTranscriptRepository",
    "FakeUnitOfWork",
    "FakeUnitOfWorkFactory",
]


class _Part(Protocol):
    def apply(self) -> None: ...

    def discard(self) -> None: ...


class FakeUnitOfWork(UnitOfWork):
    """`UnitOfWork` in memory. `commits` counts successful commits, for assertions."""

    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store if store is not None else FakeStore()
        self.commits = 0
        self._open = False

    async def __aenter__(self) -> Self:
        if self._open:
            raise RuntimeError("unit of work already open; make one per task")
        self._open = True
        self._spaces = FakeSpaceRepository(self.store)
        self._rooms = FakeRoomRepository(self.store)
        self._inbox = FakeInbox(self.store)
        self._sync_state = FakeSyncState(self.store)
        self._transactions = FakeTransactionLog(self.store)
        self.transactions = self._transactions
        self._snapshots = FakeSnapshotRepository(self.store)
        self._staged_files = FakeStagedFileRepository(self.store)
        self._transcripts = FakeTranscriptRepository(self.store)
        self.transcripts = self._transcripts
        self._turns = FakeLatestTurnRepository(self.store)
        self.turns = self._turns
        self.spaces, self.rooms = self._spaces, self._rooms
        self.inbox, self.sync_state = self._inbox, self._sync_state
        self.snapshots, self.staged_files = self._snapshots, self._staged_files
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()
        self._open = False

    async def commit(self) -> None:
        self._require_open()
        # Check everything before applying anything: a failed commit keeps nothing.
        self._spaces.check()
        self._rooms.check()
        for part in self._parts():
            part.apply()
        self.commits += 1

    async def rollback(self) -> None:
        self._require_open()
        for part in self._parts():
            part.discard()

    def _parts(self) -> tuple[_Part, ...]:
        return (
            self._spaces,
            self._rooms,
            self._inbox,
            self._sync_state,
            self._transactions,
            self._snapshots,
            self._staged_files,
            self._transcripts,
            self._turns,
        )

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError("unit of work used outside `async with`")


class FakeUnitOfWorkFactory(UnitOfWorkFactory):
    """Makes fake units of work over one shared store; `made` keeps them for assertions."""

    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store if store is not None else FakeStore()
        self.made: list[FakeUnitOfWork] = []

    def __call__(self) -> FakeUnitOfWork:
        unit_of_work = FakeUnitOfWork(self.store)
        self.made.append(unit_of_work)
        return unit_of_work
