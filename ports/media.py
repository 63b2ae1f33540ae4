from collections.abc import AsyncIterator
from typing import Protocol

from ports.workspace import WorkspaceFile


class MediaError(Exception):
    """The chat network's media repository failed or refused a transfer."""


class MediaTooLarge(MediaError):
    """The content is larger than allowed: the download cap, or the homeserver's upload limit."""


class MediaStore(Protocol):
    """Moves file content to and from the chat network's media repository."""

    async def upload_limit(self) -> int | None:
        """The largest upload the homeserver accepts, in bytes; None when it does not say."""
        ...

    def download(self, media: str, max_bytes: int) -> AsyncIterator[bytes]:
        """The content of `media` in chunks; MediaTooLarge as soon as it is known to exceed `max_bytes`."""
        ...

    async def upload(self, file: WorkspaceFile) -> str:
        """Uploads the file and returns its media reference; MediaTooLarge when the homeserver refuses its size."""
        ...
