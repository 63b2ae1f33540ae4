"""Hand-written fakes of the workspace and media ports: files and media kept in dicts."""

import mimetypes
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from domain.model.ids import RoomId
from domain.model.media import MediaKey, UploadedMedia
from domain.model.outgoing_file import OutgoingFile
from ports.media import MediaError, MediaIntegrityError, MediaStore, MediaTooLarge
from ports.workspace import FileTooLarge, PathRefused, Refusal, Workspace, WorkspaceError, WorkspaceFile

CHUNK = 1024


async def chunked(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


class FakeWorkspaceFile:
    def __init__(self, info: OutgoingFile, data: bytes) -> None:
        self._info = info
        self._data = data

    @property
    def info(self) -> OutgoingFile:
        return self._info

    def chunks(self) -> AsyncIterator[bytes]:
        return chunked(self._data)


_CONFORMS: type[WorkspaceFile] = FakeWorkspaceFile


@dataclass
class FakeWorkspace(Workspace):
    """A file is stored only once all its chunks arrived within the cap, like the atomic adapter.

    `refused` makes the agent's path refused for that reason; `images` gives a path dimensions.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    refused: dict[str, Refusal] = field(default_factory=dict)
    images: dict[str, tuple[int, int]] = field(default_factory=dict)
    unwritable: bool = False
    opened: list[str] = field(default_factory=list)

    async def write(self, relative_path: str, chunks: AsyncIterator[bytes], max_bytes: int) -> int:
        if self.unwritable:
            raise WorkspaceError("read-only file system")
        received = bytearray()
        async for chunk in chunks:
            received += chunk
            if len(received) > max_bytes:
                raise FileTooLarge(f"more than {max_bytes} bytes")
        self.files[relative_path] = bytes(received)
        return len(received)

    async def remove_abandoned_writes(self) -> int:
        return 0  # the fake never leaves a partial file

    @asynccontextmanager
    async def open_emitted(self, relative_path: str) -> AsyncIterator[WorkspaceFile]:
        if relative_path in self.refused:
            raise PathRefused(relative_path, self.refused[relative_path])
        if relative_path not in self.files:
            raise PathRefused(relative_path, Refusal.MISSING)
        self.opened.append(relative_path)
        data = self.files[relative_path]
        name = PurePosixPath(relative_path).name
        width, height = self.images.get(relative_path, (None, None))
        mime_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        info = OutgoingFile(
            workspace_path=relative_path, filename=name, mime_type=mime_type, size=len(data), width=width, height=height
        )
        yield FakeWorkspaceFile(info=info, data=data)


@dataclass
class FakeMediaStore(MediaStore):
    """`content` by media reference; `failing` makes every transfer fail. `tampered` media fail their
    integrity check at the end, as an encrypted file whose content does not match its hash; uploads into
    `encrypted_rooms` come back with a key."""

    content: dict[str, bytes] = field(default_factory=dict)
    limit: int | None = None
    failing: bool = False
    tampered: set[str] = field(default_factory=set)
    encrypted_rooms: set[RoomId] = field(default_factory=set)
    downloads: list[str] = field(default_factory=list)
    download_keys: list[MediaKey | None] = field(default_factory=list)
    uploads: list[bytes] = field(default_factory=list)
    upload_rooms: list[RoomId] = field(default_factory=list)

    async def upload_limit(self) -> int | None:
        return self.limit

    async def download(self, media: str, max_bytes: int, key: MediaKey | None = None) -> AsyncIterator[bytes]:
        self.downloads.append(media)
        self.download_keys.append(key)
        if self.failing or media not in self.content:
            raise MediaError(f"cannot fetch {media}")
        received = 0
        async for chunk in chunked(self.content[media]):
            received += len(chunk)
            if received > max_bytes:
                raise MediaTooLarge(f"{media} is larger than {max_bytes}")
            yield chunk
        if media in self.tampered:
            raise MediaIntegrityError(f"{media} does not match its hash")

    async def upload(self, file: WorkspaceFile, room_id: RoomId) -> UploadedMedia:
        if self.failing:
            raise MediaError("homeserver unreachable")
        if self.limit is not None and file.info.size > self.limit:
            raise MediaTooLarge("M_TOO_LARGE")
        self.uploads.append(b"".join([chunk async for chunk in file.chunks()]))
        self.upload_rooms.append(room_id)
        number = len(self.uploads)
        key = (
            MediaKey(key=f"k{number}", iv=f"iv{number}", sha256=f"h{number}")
            if room_id in self.encrypted_rooms
            else None
        )
        return UploadedMedia(url=f"mxc://example.org/up{number}", key=key)
