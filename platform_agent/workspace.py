"""The shared workspace: attachments are read from it and output files written to it, by relative path only."""

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME_LENGTH = 100


class UnsafePath(ValueError):
    """A path that is absolute, climbs out with `..`, or resolves outside the workspace."""


@dataclass(frozen=True, kw_only=True)
class FileFacts:
    size: int
    sha256: str


def safe_name(name: str) -> str:
    """A file name with no separators, no leading dot and only portable characters."""
    cleaned = _UNSAFE_NAME_CHARS.sub("_", PurePosixPath(name.replace("\\", "/")).name).lstrip("._")
    return cleaned[:MAX_NAME_LENGTH] or "output.txt"


class Workspace:
    """Files under one root; every path crossing the API is relative to it."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def resolve(self, relative: str) -> Path:
        pure = PurePosixPath(relative)
        if not relative or "\0" in relative or "\\" in relative or pure.is_absolute():
            raise UnsafePath(f"not a relative workspace path: {relative!r}")
        if ".." in pure.parts:
            raise UnsafePath(f"workspace path must not contain '..': {relative!r}")
        path = (self._root / pure).resolve()
        # resolve() follows symlinks: a link pointing outside the root is caught here.
        if not path.is_relative_to(self._root):
            raise UnsafePath(f"workspace path leaves the workspace: {relative!r}")
        return path

    def facts(self, relative: str) -> FileFacts:
        """Size and SHA-256 of a file; FileNotFoundError when it is not there."""
        path = self.resolve(relative)
        if not path.is_file():
            raise FileNotFoundError(f"no such file in the workspace: {relative}")
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 16), b""):
                digest.update(block)
        return FileFacts(size=path.stat().st_size, sha256=digest.hexdigest())

    def write(self, relative: str, data: bytes) -> None:
        """Writes atomically: a reader never sees half a file."""
        path = self.resolve(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            # Readable by the bot, which may run as another user sharing the workspace group.
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
