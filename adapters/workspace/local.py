"""The shared workspace as a directory on the local filesystem (a volume shared with the agents)."""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from adapters.workspace.atomic_write import remove_abandoned, write_atomically
from adapters.workspace.emitted import OpenedFile, checked_relative, open_inside
from domain.model.workspace_layout import MATRIX_PREFIX
from ports.workspace import PathRefused, Refusal, Workspace, WorkspaceError, WorkspaceFile


class LocalWorkspace(Workspace):
    """`Workspace` under one root directory. Writes go only where the bot's own relative paths point
    (checked again after resolving, so a symlink planted in the tree cannot redirect them); reads of
    agents' paths go through `open_inside`."""

    def __init__(self, root: Path, abandoned_after_s: float = 0.0) -> None:
        self._root = Path(root)
        # 0: every partial file at start-up was abandoned (one process). Appservice replicas share the volume, so
        # there only files untouched this long go: a live download writes every megabyte.
        self._abandoned_after_s = abandoned_after_s

    @property
    def root(self) -> Path:
        return self._root

    async def write(self, relative_path: str, chunks: AsyncIterator[bytes], max_bytes: int) -> int:
        try:
            target = await asyncio.to_thread(self._writable_target, relative_path)
        except OSError as error:
            raise WorkspaceError(f"cannot write {relative_path}: {error.strerror or error}") from error
        return await write_atomically(target, chunks, max_bytes)

    async def remove_abandoned_writes(self) -> int:
        # Only the bot's own area: agents' files elsewhere in the volume are theirs.
        bot_area = self._root / MATRIX_PREFIX.split("/", 1)[0]
        try:
            return await asyncio.to_thread(remove_abandoned, bot_area, self._abandoned_after_s)
        except OSError as error:
            raise WorkspaceError(f"cannot clean {bot_area}: {error.strerror or error}") from error

    @asynccontextmanager
    async def open_emitted(self, relative_path: str) -> AsyncIterator[WorkspaceFile]:
        try:
            fd = await asyncio.to_thread(open_inside, self._root, relative_path)
        except FileNotFoundError as error:  # the root itself is missing
            raise PathRefused(relative_path, Refusal.MISSING) from error
        except PathRefused:
            raise
        except OSError as error:
            raise WorkspaceError(f"cannot open {relative_path}: {error.strerror or error}") from error
        opened: OpenedFile | None = None
        try:
            opened = await asyncio.to_thread(OpenedFile, fd, relative_path)
            yield opened
        finally:
            if opened is not None:
                opened.close()
            else:
                os.close(fd)

    def _writable_target(self, relative_path: str) -> Path:
        """The target inside its real directory, each directory made or checked one level at a time, so
        that nothing is created through a symlink leading out of the root."""
        relative = checked_relative(relative_path)
        self._root.mkdir(parents=True, exist_ok=True)
        real_root = Path(os.path.realpath(self._root, strict=True))
        current = real_root
        for part in relative.parent.parts:
            candidate = current / part
            with contextlib.suppress(FileExistsError):  # mkdir never follows an existing symlink
                candidate.mkdir()
            current = Path(os.path.realpath(candidate, strict=True))
            if not current.is_relative_to(real_root) or not current.is_dir():
                raise WorkspaceError(f"{relative.parent} leads outside the workspace")
        return current / relative.name
