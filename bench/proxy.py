"""A counting reverse proxy on loopback: every request a bot makes to the homeserver, with its timing and size."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from bootstrap.homeserver import free_port

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"}
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
class CountingProxy:
    upstream: str
    port: int = field(default_factory=free_port)
    records: list[Record] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

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
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        async with self._session.request(
            request.method, f"{self.upstream}{request.rel_url}", headers=headers, data=body or None
        ) as upstream:
            payload = await upstream.read()
            record.finished, record.size = time.monotonic(), len(payload)
            out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
            return web.Response(status=upstream.status, headers=out_headers, body=payload)
