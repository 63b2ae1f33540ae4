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

from bench.proxy import LoopbackProxy


@dataclass
class RoundRobinForwarder(LoopbackProxy):
    upstreams: list[str]
    forwarded: Counter[str] = field(default_factory=Counter)  # upstream → requests it answered
    refused: Counter[str] = field(default_factory=Counter)  # upstream → requests it could not take
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        first = next(self._turn)
        for offset in range(len(self.upstreams)):
            upstream = self.upstreams[(first + offset) % len(self.upstreams)]
            try:
                answer = await self.relay(request, upstream, body)
            except aiohttp.ClientConnectionError:
                self.refused[upstream] += 1
                continue
            self.forwarded[upstream] += 1
            return answer
        return web.Response(status=502, text="no replica took the request")
