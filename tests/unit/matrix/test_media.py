"""NioMediaStore against a local server speaking the Matrix media endpoints: authenticated download with
a legacy fallback, byte caps, the upload limit and M_TOO_LARGE (encrypted attachments:
test_encrypted_attachments.py)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from nio import AsyncClient

from adapters.matrix.media import NioMediaStore
from adapters.matrix.sender import file_content
from domain.model.ids import RoomId
from domain.model.media import UploadedMedia
from domain.model.outgoing_file import OutgoingFile
from ports.media import MediaError, MediaTooLarge
from tests.unit.fakes.files import FakeWorkspaceFile

TOKEN = "secret-token"
CONTENT = bytes(range(256)) * 400  # 100 KiB
PLAIN_ROOM = RoomId("!plain:example.org")
ENCRYPTED_ROOM = RoomId("!secret:example.org")


@dataclass
class MediaServer:
    """Serves `media` by id; only the legacy endpoint knows ids starting with "legacy"."""

    upload_limit: int | None = 50_000
    uploads: list[bytes] = field(default_factory=list)
    upload_queries: list[dict[str, str]] = field(default_factory=list)
    auth_seen: list[str | None] = field(default_factory=list)
    stored: dict[str, bytes] = field(default_factory=dict)  # served as they are, by media id
    refuse_next_uploads: int = 0  # answered 429 (nio retries, asking its data provider again)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/_matrix/client/v1/media/download/{server}/{media_id}", self.authenticated)
        app.router.add_get("/_matrix/media/v3/download/{server}/{media_id}", self.legacy)
        app.router.add_get("/_matrix/client/v1/media/config", self.config)
        app.router.add_post("/_matrix/media/v3/upload", self.upload)
        return app

    async def authenticated(self, request: web.Request) -> web.StreamResponse:
        self.auth_seen.append(request.headers.get("Authorization"))
        media_id = request.match_info["media_id"]
        if media_id.startswith("legacy"):
            return web.json_response({"errcode": "M_UNRECOGNIZED", "error": "unknown endpoint"}, status=404)
        if media_id in self.stored:
            return web.Response(body=self.stored[media_id])
        if media_id == "missing":
            return web.json_response({"errcode": "M_NOT_FOUND", "error": "no such media"}, status=404)
        if media_id == "forbidden":
            return web.json_response({"errcode": "M_FORBIDDEN", "error": "no"}, status=403)
        if media_id == "endless":  # chunked, no Content-Length: only counting reveals the size
            response = web.StreamResponse()
            await response.prepare(request)
            for _ in range(100):
                await response.write(b"x" * 10_000)
            await response.write_eof()
            return response
        return web.Response(body=CONTENT)

    async def legacy(self, request: web.Request) -> web.Response:
        if request.match_info["media_id"].startswith("legacy"):
            return web.Response(body=CONTENT)
        return web.json_response({"errcode": "M_NOT_FOUND", "error": "no such media"}, status=404)

    async def config(self, _: web.Request) -> web.Response:
        return web.json_response({} if self.upload_limit is None else {"m.upload.size": self.upload_limit})

    async def upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.refuse_next_uploads:
            self.refuse_next_uploads -= 1
            refusal = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 1}
            return web.json_response(refusal, status=429)
        self.upload_queries.append({**request.query, "content-type": request.content_type})
        if self.upload_limit is not None and len(body) > self.upload_limit:
            return web.json_response({"errcode": "M_TOO_LARGE", "error": "Uploaded content is too large"}, status=413)
        self.uploads.append(body)
        return web.json_response({"content_uri": f"mxc://example.org/up{len(self.uploads)}"})


@dataclass
class FakeRooms:
    encrypted: frozenset[str] = frozenset({ENCRYPTED_ROOM})

    async def is_encrypted(self, room_id: str) -> bool:
        return room_id in self.encrypted


@asynccontextmanager
async def media_store(server: MediaServer) -> AsyncIterator[NioMediaStore]:
    runner = web.AppRunner(server.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    client = AsyncClient(f"http://127.0.0.1:{runner.addresses[0][1]}", "@bot:example.org")
    client.access_token, client.user_id = TOKEN, "@bot:example.org"
    try:
        yield NioMediaStore(client, FakeRooms())
    finally:
        await client.close()
        await runner.cleanup()


async def fetch(store: NioMediaStore, media: str, cap: int = 1_000_000) -> bytes:
    return b"".join([chunk async for chunk in store.download(media, cap)])


async def test_download_uses_the_authenticated_endpoint_with_the_token() -> None:
    server = MediaServer()
    async with media_store(server) as store:
        assert await fetch(store, "mxc://example.org/abc") == CONTENT
    assert server.auth_seen == [f"Bearer {TOKEN}"]


async def test_download_falls_back_to_the_legacy_endpoint() -> None:
    async with media_store(MediaServer()) as store:
        assert await fetch(store, "mxc://example.org/legacy1") == CONTENT


async def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    async with media_store(MediaServer()) as store:
        with pytest.raises(MediaTooLarge):
            await fetch(store, "mxc://example.org/abc", cap=len(CONTENT) - 1)


async def test_an_undeclared_stream_is_cut_off_at_the_cap() -> None:
    async with media_store(MediaServer()) as store:
        received = 0
        with pytest.raises(MediaTooLarge):
            async for chunk in store.download("mxc://example.org/endless", 25_000):
                received += len(chunk)
        assert received <= 25_000


@pytest.mark.parametrize("media", ["mxc://example.org/missing", "mxc://example.org/forbidden"])
async def test_missing_or_forbidden_media_is_a_media_error(media: str) -> None:
    async with media_store(MediaServer()) as store:
        with pytest.raises(MediaError) as error:
            await fetch(store, media)
        assert not isinstance(error.value, MediaTooLarge)


@pytest.mark.parametrize("media", ["https://example.org/x", "mxc://example.org/", "mxc:///x", "mxc://a/b/c"])
async def test_a_malformed_reference_is_never_requested(media: str) -> None:
    server = MediaServer()
    async with media_store(server) as store:
        with pytest.raises(MediaError):
            await fetch(store, media)
    assert server.auth_seen == []


async def test_an_unreachable_homeserver_is_a_media_error() -> None:
    client = AsyncClient("http://127.0.0.1:9", "@bot:example.org")
    client.access_token = TOKEN
    try:
        with pytest.raises(MediaError):
            await fetch(NioMediaStore(client, FakeRooms()), "mxc://example.org/abc")
    finally:
        await client.close()


async def test_the_upload_limit_is_read_once_and_kept() -> None:
    server = MediaServer(upload_limit=1234)
    async with media_store(server) as store:
        assert await store.upload_limit() == 1234
        server.upload_limit = 1
        assert await store.upload_limit() == 1234


async def test_no_upload_limit_is_none() -> None:
    async with media_store(MediaServer(upload_limit=None)) as store:
        assert await store.upload_limit() is None


def a_file(data: bytes) -> FakeWorkspaceFile:
    info = OutgoingFile(workspace_path="out/a.bin", filename="a.bin", mime_type="application/x-a", size=len(data))
    return FakeWorkspaceFile(info=info, data=data)


async def test_upload_sends_the_content_and_returns_the_reference() -> None:
    server = MediaServer()
    async with media_store(server) as store:
        assert await store.upload(a_file(b"payload"), PLAIN_ROOM) == UploadedMedia(url="mxc://example.org/up1")
    assert server.uploads == [b"payload"]
    assert server.upload_queries == [{"filename": "a.bin", "content-type": "application/x-a"}]


async def test_upload_over_the_homeservers_limit_is_media_too_large() -> None:
    async with media_store(MediaServer(upload_limit=10)) as store:
        with pytest.raises(MediaTooLarge):
            await store.upload(a_file(b"x" * 11), PLAIN_ROOM)


def test_an_image_is_posted_with_its_dimensions_and_a_file_without() -> None:
    image = OutgoingFile(workspace_path="p.png", filename="p.png", mime_type="image/png", size=9, width=4, height=3)
    assert file_content(image, UploadedMedia(url="mxc://e/1")) == {
        "msgtype": "m.image",
        "body": "p.png",
        "filename": "p.png",
        "url": "mxc://e/1",
        "info": {"mimetype": "image/png", "size": 9, "w": 4, "h": 3},
    }
    plain = OutgoingFile(workspace_path="a.csv", filename="a.csv", mime_type="text/csv", size=3)
    content = file_content(plain, UploadedMedia(url="mxc://e/2"))
    assert content["msgtype"] == "m.file" and content["info"] == {"mimetype": "text/csv", "size": 3}
