"""Opening a file an agent named, without ever reading anything outside the workspace root."""

import asyncio
import os
import re
import stat
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath
from typing import Final

from adapters.workspace.inspection import image_size, sniff_mime_type
from domain.model.file_names import safe_name
from domain.model.outgoing_file import OutgoingFile
from ports.workspace import PathRefused, Refusal, WorkspaceFile

READ_CHUNK: Final = 256 * 1024
_WINDOWS_DRIVE: Final = re.compile(r"[A-Za-z]:")
# O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
_OPEN_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def checked_relative(relative_path: str) -> PurePosixPath:
    """The path when it is relative and never climbs; PathRefused otherwise (nothing is touched)."""
    if not relative_path or "\x00" in relative_path:
        raise PathRefused(relative_path, Refusal.INVALID)
    if relative_path.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(relative_path):
        raise PathRefused(relative_path, Refusal.ABSOLUTE)
    if ".." in re.split(r"[/\\]", relative_path):
        raise PathRefused(relative_path, Refusal.CLIMBS)
    return PurePosixPath(relative_path)


def open_inside(root: Path, relative_path: str) -> int:
    """A read-only descriptor of the regular file at `relative_path`, resolved (symlinks included)
    strictly inside `root`; PathRefused for anything else."""
    relative = checked_relative(relative_path)
    real_root = Path(os.path.realpath(root, strict=True))
    try:
        real = Path(os.path.realpath(real_root / relative, strict=True))
    except (FileNotFoundError, NotADirectoryError):
        raise PathRefused(relative_path, Refusal.MISSING) from None
    except OSError:  # a symlink loop, or a component that cannot be searched
        raise PathRefused(relative_path, Refusal.ESCAPES) from None
    if not real.is_relative_to(real_root):
        raise PathRefused(relative_path, Refusal.ESCAPES)
    if not stat.S_ISREG(os.stat(real, follow_symlinks=False).st_mode):
        raise PathRefused(relative_path, Refusal.NOT_REGULAR)
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except FileNotFoundError:
        raise PathRefused(relative_path, Refusal.MISSING) from None
    except OSError:  # swapped for a symlink since it was resolved (ELOOP), or unreadable
        raise PathRefused(relative_path, Refusal.ESCAPES) from None
    try:
        _recheck(fd, real_root, relative_path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _recheck(fd: int, real_root: Path, relative_path: str) -> None:
    """What was opened is what was checked: a regular file, still inside the root (a directory of the
    path swapped for a symlink between the check and the open is caught here)."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise PathRefused(relative_path, Refusal.NOT_REGULAR)
    opened = Path(f"/proc/self/fd/{fd}")
    if opened.exists() and not Path(os.readlink(opened)).is_relative_to(real_root):
        raise PathRefused(relative_path, Refusal.ESCAPES)


class OpenedFile(WorkspaceFile):
    """An agent's file held open by descriptor: every read is of the file that was checked."""

    def __init__(self, fd: int, relative_path: str) -> None:
        self._fd = fd
        name = safe_name(PurePosixPath(relative_path.replace("\\", "/")).name)
        size = os.fstat(fd).st_size
        mime_type = sniff_mime_type(fd, name)
        dimensions = image_size(fd, mime_type)
        self._info = OutgoingFile(
            workspace_path=relative_path,
            filename=name,
            mime_type=mime_type,
            size=size,
            width=dimensions[0] if dimensions else None,
            height=dimensions[1] if dimensions else None,
        )

    @property
    def info(self) -> OutgoingFile:
        return self._info

    async def chunks(self) -> AsyncIterator[bytes]:
        # pread from an explicit offset: a retried upload starts from the first byte again, and never
        # reads past the size it announced, even if the agent keeps appending.
        offset = 0
        while offset < self._info.size:
            chunk = await asyncio.to_thread(os.pread, self._fd, min(READ_CHUNK, self._info.size - offset), offset)
            if not chunk:
                break
            offset += len(chunk)
            yield chunk

    def close(self) -> None:
        os.close(self._fd)
