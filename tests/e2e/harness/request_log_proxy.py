"""A reverse proxy in front of the homeserver that notes every request the bot makes (method, path and query)."""

from __future__ import annotations

from typing import Final

import aiohttp
from aiohttp import web

from bootstrap.homeserver import free_port

_HOP_BY_HOP: Final = {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class RequestLogProxy:
    def __init__(self, upstream: str) -> None:
        self._upstream = upstream.rstrip("/")
        self.port = free_port()
        self.requests: list[str] = []  # "METHOD /path?query"
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(auto_decompress=False)
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
        self.requests.append(f"{request.method} {request.raw_path}")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(
            request.method, self._upstream + request.raw_path, headers=headers, data=await request.read()
        ) as upstream:
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
            if "Content-Encoding" in upstream.headers:
                out["Content-Encoding"] = upstream.headers["Content-Encoding"]
            return web.Response(status=upstream.status, body=body, headers=out)
