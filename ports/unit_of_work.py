from types import TracebackType
from typing import Protocol, Self

from ports.inbox import Inbox
from ports.rooms import RoomRepository
from ports.snapshots import SnapshotRepository
from ports.spaces import SpaceRepository
from ports.staged_files import StagedFileRepository
from ports.sync_state import SyncState
from ports.transactions import TransactionLog
from ports.transcripts import TranscriptRepository
from ports.turns import LatestTurnRepository


class UnitOfWork(Protocol):
    """One transaction: `async with uow:` opens it; nothing is kept unless `commit()` is called."""

    spaces: SpaceRepository
    rooms: RoomRepository
    inbox: Inbox
    sync_state: SyncState
    snapshots: SnapshotRepository
    transcripts: TranscriptRepository
    staged_files: StagedFileRepository
    turns: LatestTurnRepository
    transactions: TransactionLog

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work; one per task, never shared between concurrent tasks."""

    def __call__(self) -> UnitOfWork: ...
