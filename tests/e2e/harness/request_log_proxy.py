"""A reverse proxy in front of the homeserver that notes every request the bot makes (method, path and query)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from bench.proxy import LoopbackProxy


@dataclass
class RequestLogProxy(LoopbackProxy):
    upstream: str
    requests: list[str] = field(default_factory=list)  # "METHOD /path?query"

    def __post_init__(self) -> None:
        self.upstream = self.upstream.rstrip("/")

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.raw_path}")
        return await self.relay(request, self.upstream, await request.read())
