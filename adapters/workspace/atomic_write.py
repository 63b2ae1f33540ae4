"""All-or-nothing file writes: a hidden temporary file in the target's directory, fsync, rename."""

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Final, TypeVar

from ports.workspace import FileTooLarge, WorkspaceError

T = TypeVar("T")

PARTIAL_PREFIX: Final = ".partial-"
# Chunks are gathered up to this size before a write, so a 50 MB file costs ~50 thread hops, not ~800.
WRITE_BUFFER: Final = 1024 * 1024
FILE_MODE: Final = 0o644  # the agent, another user in the fullstack compose, must read it


async def write_atomically(target: Path, chunks: AsyncIterator[bytes], max_bytes: int) -> int:
    """Writes the chunks to `target` and returns the size; raises FileTooLarge past `max_bytes` and
    WorkspaceError when the filesystem fails (errors of the source itself pass through unchanged).

    The content appears under its name only complete (after fsync and an atomic rename); on any
    failure or cancellation the temporary file is removed and nothing is left.
    """
    try:
        fd, temporary = await _blocking(_open_temporary, target.parent)
    except BaseException:
        await _close_iterator(chunks)
        raise
    fd_open = True
    try:
        size = await _copy(fd, chunks, max_bytes)
        fd_open = False  # closed by _sync_and_close whatever happens in it
        await _blocking(_sync_and_close, fd)
        await _blocking(_rename_durably, temporary, target)
    except BaseException:
        await _blocking(_discard, fd if fd_open else None, temporary)
        raise
    finally:
        await _close_iterator(chunks)
    return size


async def _copy(fd: int, chunks: AsyncIterator[bytes], max_bytes: int) -> int:
    size = 0
    buffer = bytearray()
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise FileTooLarge(f"more than {max_bytes} bytes")
        buffer += chunk
        if len(buffer) >= WRITE_BUFFER:
            await _blocking(_write_all, fd, bytes(buffer))
            buffer.clear()
    if buffer:
        await _blocking(_write_all, fd, bytes(buffer))
    return size


async def _blocking(function: Callable[..., T], *args: object) -> T:
    """Runs file I/O in a thread and, if cancelled meanwhile, lets it finish first: the clean-up
    must never close or unlink what a still-running thread is writing."""
    task = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise
    except OSError as error:
        raise WorkspaceError(f"{error.strerror or error}: {error.filename or ''}") from error


def _open_temporary(directory: Path) -> tuple[int, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=PARTIAL_PREFIX, suffix=".tmp")
    os.fchmod(fd, FILE_MODE)
    return fd, Path(temporary)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _sync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rename_durably(temporary: Path, target: Path) -> None:
    os.replace(temporary, target)
    # The rename itself survives a power cut only once the directory is synced.
    directory = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def remove_abandoned(directory: Path, idle_s: float = 0.0) -> int:
    """Deletes the temporary files of writes a crash interrupted (a `kill -9` between create and rename)
    under `directory`, without following symlinks; returns how many. Only for a start-up, when no write of
    this process can be under way; `idle_s` spares files written to more recently than that, which another
    process sharing the directory (an appservice replica) may still be writing."""
    removed = 0
    written_before = time.time() - idle_s
    if not directory.is_dir():
        return 0
    for parent, _, names in os.walk(directory, followlinks=False):
        for name in names:
            path = Path(parent, name)
            if name.startswith(PARTIAL_PREFIX) and name.endswith(".tmp") and path.is_file() and not path.is_symlink():
                # Another replica's write may finish (rename) between the walk and here: gone is not an error.
                with contextlib.suppress(FileNotFoundError):
                    if idle_s and path.stat().st_mtime > written_before:
                        continue
                    path.unlink()
                    removed += 1
    return removed


def _discard(fd: int | None, temporary: Path) -> None:
    if fd is not None:
        os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()


async def _close_iterator(chunks: AsyncIterator[bytes]) -> None:
    # An abandoned download must release its connection now, not when garbage collected.
    close = getattr(chunks, "aclose", None)
    if close is not None:
        await close()
