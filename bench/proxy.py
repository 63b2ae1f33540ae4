"""Reverse proxies on loopback: the server and the relay they share, and the counting proxy (every request a bot
makes to the homeserver, with its timing and size). The appservice forwarder (bench/forwarder.py) and the e2e
request log (tests/e2e/harness/request_log_proxy.py) are built on the same `LoopbackProxy`."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from bootstrap.homeserver import free_port

# Headers of one hop, not of the request: the proxy's own connection sets them.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"}
_ID = re.compile(r"/(![^/]+|%21[^/]+|@[^/]+|%40[^/]+|\$[^/]+|%24[^/]+)")


def endpoint(method: str, path: str) -> str:
    """`PUT /rooms/{id}/send/...` with ids and transaction ids folded, to group requests by kind."""
    path = _ID.sub("/{id}", path.split("?", 1)[0])
    path = re.sub(r"/(send|state)/([^/]+)/[^/]+$", r"/\1/\2/{key}", path)
    return f"{method} {path.removeprefix('/_matrix/client')}"


@dataclass
class Record:
    arrived: float  # monotonic
    kind: str
    finished: float | None = None
    size: int = 0


@dataclass
class LoopbackProxy:
    """An HTTP server on 127.0.0.1 whose every request goes to `_forward`, with one client session to relay it.

    Bodies pass through as they are (no decompression), so what the client gets is what the upstream sent."""

    port: int = field(default_factory=free_port, kw_only=True)
    _runner: web.AppRunner | None = field(default=None, kw_only=True)
    _session: aiohttp.ClientSession | None = field(default=None, kw_only=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None)
        )
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def relay(self, request: web.Request, upstream: str, body: bytes) -> web.Response:
        """The request sent on to `upstream` (path and query exactly as received), its answer sent back.
        Raises aiohttp's `ClientConnectionError` when the upstream cannot be reached."""
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with self._session.request(
            request.method, f"{upstream}{request.raw_path}", headers=headers, data=body or None
        ) as answer:
            payload = await answer.read()
            out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        return web.Response(status=answer.status, headers=out_headers, body=payload)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError


@dataclass
class CountingProxy(LoopbackProxy):
    upstream: str
    records: list[Record] = field(default_factory=list)

    def between(self, start: float, end: float) -> Counter[str]:
        """Requests that arrived in [start, end] (monotonic), by endpoint."""
        return Counter(r.kind for r in self.records if start <= r.arrived <= end)

    def largest_response(self, start: float, end: float) -> tuple[str, int] | None:
        """The biggest response body of a request that arrived in [start, end]: (endpoint, bytes)."""
        sizes = [(r.size, r.kind) for r in self.records if start <= r.arrived <= end]
        return (max(sizes)[1], max(sizes)[0]) if sizes else None

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        record = Record(time.monotonic(), endpoint(request.method, request.path))
        self.records.append(record)
        answer = await self.relay(request, self.upstream, await request.read())
        record.finished, record.size = time.monotonic(), len(answer.body or b"")
        return answer
