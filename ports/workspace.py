from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from enum import StrEnum
from typing import Protocol

from domain.model.outgoing_file import OutgoingFile


class WorkspaceError(Exception):
    """The shared workspace could not be read or written (missing, unwritable, full)."""


class FileTooLarge(WorkspaceError):
    """More bytes arrived than the cap allowed; nothing was kept."""


class Refusal(StrEnum):
    INVALID = "invalid"  # empty, or contains a NUL
    ABSOLUTE = "absolute"
    CLIMBS = "climbs"  # has a `..` part
    ESCAPES = "escapes"  # resolves (through a symlink) outside the workspace root
    MISSING = "missing"
    NOT_REGULAR = "not_regular"  # a directory, FIFO, device or socket


class PathRefused(WorkspaceError):
    """An agent's path that the bot will not read, and why."""

    def __init__(self, path: str, reason: Refusal) -> None:
        super().__init__(f"{reason.value}: {path!r}")
        self.path = path
        self.reason = reason


class WorkspaceFile(Protocol):
    """A file opened inside the workspace after its path was checked; read it only through this."""

    @property
    def info(self) -> OutgoingFile: ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The content from the first byte; every call starts again (a retried upload)."""
        ...


class Workspace(Protocol):
    """The shared workspace, addressed only by paths relative to its root."""

    async def write(self, relative_path: str, chunks: AsyncIterator[bytes], max_bytes: int) -> int:
        """Stores the chunks at the path atomically (all or nothing) and returns the size written.

        Raises FileTooLarge once more than `max_bytes` arrive, WorkspaceError when the file cannot be
        written; in both cases nothing, not even a partial file, is left.
        """
        ...

    async def remove_abandoned_writes(self) -> int:
        """At start-up: deletes what writes interrupted by a crash left behind in the bot's own area (hidden
        temporary files, never under a final name); returns how many."""
        ...

    def open_emitted(self, relative_path: str) -> AbstractAsyncContextManager[WorkspaceFile]:
        """Opens a file an agent named. Raises PathRefused for absolute paths, `..`, paths resolving
        outside the root, missing and non-regular files; nothing outside the root is ever opened."""
        ...
