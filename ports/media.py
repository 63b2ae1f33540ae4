from collections.abc import AsyncIterator
from typing import Protocol

from domain.model.ids import RoomId
from domain.model.media import MediaKey, UploadedMedia
from ports.workspace import WorkspaceFile


class MediaError(Exception):
    """The chat network's media repository failed or refused a transfer."""


class MediaTooLarge(MediaError):
    """The content is larger than allowed: the download cap, or the homeserver's upload limit."""


class MediaIntegrityError(MediaError):
    """An encrypted file's content does not match the hash its sender gave: it was altered or damaged."""


class MediaStore(Protocol):
    """Moves file content to and from the chat network's media repository."""

    async def upload_limit(self) -> int | None:
        """The largest upload the homeserver accepts, in bytes; None when it does not say."""
        ...

    def download(self, media: str, max_bytes: int, key: MediaKey | None = None) -> AsyncIterator[bytes]:
        """The content of `media` in chunks; MediaTooLarge as soon as it is known to exceed `max_bytes`.

        With a `key` the content is decrypted as it streams, and MediaIntegrityError is raised before the last
        chunk when it does not match the key's hash.
        """
        ...

    async def upload(self, file: WorkspaceFile, room_id: RoomId) -> UploadedMedia:
        """Uploads the file for a message into `room_id`, encrypted when that room is, and returns its reference;
        MediaTooLarge when the homeserver refuses its size."""
        ...
