"""A round-robin HTTP forwarder: the one URL the homeserver pushes transactions to, in front of several replicas.

For the benchmark only. The deployment's load balancer is the scale compose file's (deploy/); this stands in
for it on loopback. It forwards per request, not per connection: Synapse keeps one connection to an appservice
open and sends its transactions one after the other over it, so a per-connection balancer would hand them all
to one replica. A replica that refuses the connection (killed) is skipped and the request goes to the next one,
as a balancer's health check would do; a transaction is idempotent, so trying it on another replica is safe.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from bootstrap.homeserver import free_port

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"}


@dataclass
class RoundRobinForwarder:
    upstreams: list[str]
    port: int = field(default_factory=free_port)
    forwarded: Counter[str] = field(default_factory=Counter)  # upstream → requests it answered
    refused: Counter[str] = field(default_factory=Counter)  # upstream → requests it could not take
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    _turn: itertools.count[int] = field(default_factory=itertools.count)

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

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        first = next(self._turn)
        for offset in range(len(self.upstreams)):
            upstream = self.upstreams[(first + offset) % len(self.upstreams)]
            try:
                async with self._session.request(
                    request.method, f"{upstream}{request.rel_url}", headers=headers, data=body or None
                ) as answer:
                    payload = await answer.read()
                    out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            except aiohttp.ClientConnectionError:
                self.refused[upstream] += 1
                continue
            self.forwarded[upstream] += 1
            return web.Response(status=answer.status, headers=out_headers, body=payload)
        return web.Response(status=502, text="no replica took the request")
