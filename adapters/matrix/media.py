"""The homeserver's media repository through matrix-nio: capped streaming downloads, uploads, the upload limit;
content encrypted in encrypted rooms (adapters/matrix/attachment_crypto.py)."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Final, Protocol
from urllib.parse import quote, urlsplit

import aiohttp
from nio import AsyncClient, ContentRepositoryConfigResponse, UploadError, UploadResponse

from adapters.matrix.attachment_crypto import AttachmentEncryption, decrypted
from domain.model.ids import RoomId
from domain.model.media import MediaKey, UploadedMedia
from ports.media import MediaError, MediaStore, MediaTooLarge
from ports.workspace import WorkspaceFile

log = logging.getLogger(__name__)

# Authenticated media first (Synapse >= 1.120 serves new media only there), the legacy endpoint for
# homeservers that do not know it yet.
DOWNLOAD_BASES: Final = ("/_matrix/client/v1/media/download", "/_matrix/media/v3/download")
_FALLBACK_STATUSES: Final = frozenset({400, 404, 405})
# nio sets no timeout on media transfers: a stalled read fails after READ_TIMEOUT_S, a slow one after the deadline.
READ_TIMEOUT_S: Final = 60.0
TRANSFER_DEADLINE_S: Final = 600.0
CONFIG_DEADLINE_S: Final = 30.0
_ERROR_BODY_BYTES: Final = 4096
ENCRYPTED_TYPE: Final = "application/octet-stream"  # what an encrypted upload shows the homeserver, no name


class EncryptedRooms(Protocol):
    """Whether a room is encrypted (RoomEncryption)."""

    async def is_encrypted(self, room_id: str) -> bool: ...


class NioMediaStore(MediaStore):
    """`MediaStore` on the nio client's session and access token; nio's own `download` is not used
    because it reads the whole body and, with `save_to`, trusts the sender's file name."""

    def __init__(self, client: AsyncClient, rooms: EncryptedRooms) -> None:
        self._client = client
        self._rooms = rooms
        self._limit: int | None = None
        self._limit_known = False

    async def upload_limit(self) -> int | None:
        if self._limit_known:
            return self._limit
        try:
            async with asyncio.timeout(CONFIG_DEADLINE_S):
                response = await self._client.content_repository_config()
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("media_config_failed", extra={"error": str(error) or type(error).__name__})
            return None  # asked again next time
        if not isinstance(response, ContentRepositoryConfigResponse):
            log.warning("media_config_failed", extra={"error": str(response)})
            return None
        size = response.upload_size
        self._limit = size if isinstance(size, int) and size > 0 else None
        self._limit_known = True
        log.info("media_upload_limit", extra={"bytes": self._limit})
        return self._limit

    def download(self, media: str, max_bytes: int, key: MediaKey | None = None) -> AsyncIterator[bytes]:
        content = self._download(media, max_bytes)
        return content if key is None else decrypted(content, key)

    async def _download(self, media: str, max_bytes: int) -> AsyncIterator[bytes]:
        deadline = asyncio.get_running_loop().time() + TRANSFER_DEADLINE_S
        response = await self._open(_server_and_id(media))
        try:
            if response.content_length is not None and response.content_length > max_bytes:
                raise MediaTooLarge(f"{media} is {response.content_length} bytes, more than {max_bytes}")
            received = 0
            while chunk := await _read(response, deadline):
                received += len(chunk)
                if received > max_bytes:
                    raise MediaTooLarge(f"{media} sent more than {max_bytes} bytes")
                yield chunk
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise MediaError(f"download of {media}: {error or type(error).__name__}") from error
        finally:
            response.release()

    async def upload(self, file: WorkspaceFile, room_id: RoomId) -> UploadedMedia:
        if not await self._rooms.is_encrypted(room_id):
            return UploadedMedia(url=await self._upload(file, file.chunks, encrypted=False))
        encryption = AttachmentEncryption(file.chunks)
        url = await self._upload(file, encryption.chunks, encrypted=True)
        return UploadedMedia(url=url, key=encryption.key)

    async def _upload(self, file: WorkspaceFile, chunks: Callable[[], AsyncIterator[bytes]], encrypted: bool) -> str:
        info = file.info

        def provider(_got_429: int, _got_timeouts: int) -> AsyncIterator[bytes]:
            return chunks()  # nio calls it again on a retry: the content starts over

        try:
            async with asyncio.timeout(TRANSFER_DEADLINE_S):
                response, _ = await self._client.upload(
                    provider,
                    content_type=ENCRYPTED_TYPE if encrypted else info.mime_type,
                    filename=None if encrypted else info.filename,
                    filesize=info.size,  # AES-CTR keeps the size
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise MediaError(f"upload of {info.workspace_path}: {error or type(error).__name__}") from error
        if isinstance(response, UploadResponse):
            return str(response.content_uri)
        if isinstance(response, UploadError) and response.status_code == "M_TOO_LARGE":
            raise MediaTooLarge(f"the homeserver refused {info.size} bytes: {response.message}")
        raise MediaError(f"upload of {info.workspace_path} failed: {response}")

    async def _open(self, server_and_id: str) -> aiohttp.ClientResponse:
        headers = {"Authorization": f"Bearer {self._client.access_token}"}
        limits = aiohttp.ClientTimeout(total=None, sock_connect=READ_TIMEOUT_S, sock_read=READ_TIMEOUT_S)
        *preferred, last = DOWNLOAD_BASES
        for base in preferred:
            response = await self._get(f"{base}/{server_and_id}", headers, limits)
            if response.status not in _FALLBACK_STATUSES:
                return await _checked(response, server_and_id)
            detail = await _error_detail(response)
            log.info("media_download_fallback", extra={"status": response.status, "errcode": detail.get("errcode")})
        return await _checked(await self._get(f"{last}/{server_and_id}", headers, limits), server_and_id)

    async def _get(self, path: str, headers: dict[str, str], limits: aiohttp.ClientTimeout) -> aiohttp.ClientResponse:
        try:
            # nio's `send` hands the timeout to aiohttp as it is: per-read limits, no total.
            response: aiohttp.ClientResponse = await self._client.send("GET", path, headers=headers, timeout=limits)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise MediaError(f"download: {error or type(error).__name__}") from error
        return response


async def _checked(response: aiohttp.ClientResponse, server_and_id: str) -> aiohttp.ClientResponse:
    """The response when it carries the content; MediaTooLarge or MediaError (the body released) otherwise."""
    if response.status == 200:
        return response
    detail = await _error_detail(response)
    if response.status == 413 or detail.get("errcode") == "M_TOO_LARGE":
        raise MediaTooLarge(f"{server_and_id}: {response.status} {detail}")
    raise MediaError(f"download of {server_and_id}: {response.status} {detail}")


def _server_and_id(media: str) -> str:
    parts = urlsplit(media)
    media_id = parts.path.lstrip("/")
    if parts.scheme != "mxc" or not parts.netloc or not media_id or "/" in media_id:
        raise MediaError(f"not a media reference: {media!r}")
    return f"{quote(parts.netloc, safe='')}/{quote(media_id, safe='')}"


async def _read(response: aiohttp.ClientResponse, deadline: float) -> bytes:
    remaining = deadline - asyncio.get_running_loop().time()
    if remaining <= 0:
        raise TimeoutError("media transfer took longer than its deadline")
    async with asyncio.timeout(min(READ_TIMEOUT_S, remaining)):
        return await response.content.readany()


async def _error_detail(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            raw = await response.content.read(_ERROR_BODY_BYTES)
        detail = json.loads(raw) if raw else {}
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
        detail = {}
    finally:
        response.release()
    return detail if isinstance(detail, dict) else {}
