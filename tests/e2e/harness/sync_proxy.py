"""A reverse proxy between the bot and Synapse that can hold back encrypted to-device events: keys that come late.

Every request goes through unchanged (bodies streamed both ways, long-poll `/sync` and media included),
except `/sync` responses while holding: their `m.room.encrypted` to-device events (Olm: room keys, forwarded
keys) are taken out and kept. `release()` hands the kept ones to the client in its next `/sync` answer (a
long-poll in flight is answered at once with them, under a sync token of the proxy's own); `drop_held()`
forgets them for good: keys that never arrive. The encrypting client on the other side syncs directly with
Synapse and never notices.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from bootstrap.homeserver import free_port

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
_ENCRYPTED = "m.room.encrypted"
_MARK = "~proxy"  # never in a Synapse token


class SyncProxy:
    """`await start()`, point the bot at `.url`, `hold()` / `release()` / `drop_held()`, `await stop()`."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = free_port()
        self.held: list[dict[str, Any]] = []
        self.holding = False
        self.syncs_seen = 0
        self._to_inject: list[dict[str, Any]] = []
        self._answered_early = 0
        self._last_key_counts: dict[str, Any] = {}
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        # No total timeout: /sync long-polls; auto_decompress off so bodies pass through byte for byte.
        self._session = ClientSession(timeout=ClientTimeout(total=None, sock_connect=10), auto_decompress=False)
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self.url

    async def stop(self) -> None:
        # The upstream session first: that ends open long-polls at once, which the runner would wait out.
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def hold(self) -> None:
        """From now on, encrypted to-device events in /sync answers are kept back."""
        self.holding = True

    def release(self) -> None:
        """Stop holding; the kept events go out with the next /sync answer (an open long-poll is cut short)."""
        self.holding = False
        self._to_inject.extend(self.held)
        self.held.clear()
        if self._to_inject:
            self._released.set()

    def drop_held(self) -> None:
        """Forget the kept events: those keys never arrive."""
        self.held.clear()

    # -- forwarding ------------------------------------------------------------------------------------

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET" and request.path.endswith("/sync"):
            return await self._sync(request)
        assert self._session is not None
        async with self._session.request(
            request.method,
            self.upstream + str(request.rel_url),
            headers=_forwardable(request.headers),
            data=request.content if request.can_read_body else None,
            allow_redirects=False,
        ) as upstream:
            response = web.StreamResponse(status=upstream.status, headers=_forwardable(upstream.headers))
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(64 * 1024):
                await response.write(chunk)
            await response.write_eof()
            return response

    async def _sync(self, request: web.Request) -> web.StreamResponse:
        since = request.query.get("since")
        if self._to_inject and since is not None:
            return _json(200, {}, self._filter(self._early_answer(since)))
        upstream_task = asyncio.ensure_future(self._fetch_sync(request))
        released_task = asyncio.ensure_future(self._released.wait())
        try:
            done, _ = await asyncio.wait({upstream_task, released_task}, return_when=asyncio.FIRST_COMPLETED)
            if upstream_task not in done and since is not None:
                # Keys released while the client long-polls: answer now rather than when Synapse has news.
                return _json(200, {}, self._filter(self._early_answer(since)))
            status, headers, body = await upstream_task
        finally:
            released_task.cancel()
            upstream_task.cancel()
        return _json(status, headers, self._filter(body) if status == 200 else body)

    def _early_answer(self, since: str) -> dict[str, Any]:
        """A sync answer of our own, with no news but the keys: its token is the client's own plus a marker
        (clients ignore an answer whose token they already have), stripped again before it reaches Synapse."""
        self._answered_early += 1
        return {
            "next_batch": f"{_upstream_token(since)}{_MARK}{self._answered_early}",
            "rooms": {"join": {}, "invite": {}, "leave": {}},
            "to_device": {"events": []},
            "device_lists": {"changed": [], "left": []},
            **self._last_key_counts,
        }

    async def _fetch_sync(self, request: web.Request) -> tuple[int, dict[str, str], Any]:
        assert self._session is not None
        query = dict(request.query)
        if "since" in query:
            query["since"] = _upstream_token(query["since"])
        async with self._session.get(
            self.upstream + request.path, params=query, headers=_forwardable(request.headers)
        ) as upstream:
            raw = await upstream.read()
            headers = {k: v for k, v in _forwardable(upstream.headers).items() if k.lower() != "content-encoding"}
            try:
                return upstream.status, headers, json.loads(raw)
            except json.JSONDecodeError:
                return upstream.status, headers, {"errcode": "M_UNKNOWN", "error": raw.decode(errors="replace")}

    def _filter(self, body: dict[str, Any]) -> dict[str, Any]:
        self.syncs_seen += 1
        for key in ("device_one_time_keys_count", "device_unused_fallback_key_types"):
            if key in body:
                self._last_key_counts[key] = body[key]
        to_device = body.setdefault("to_device", {}).setdefault("events", [])
        if self.holding:
            self.held.extend(e for e in to_device if e.get("type") == _ENCRYPTED)
            to_device[:] = [e for e in to_device if e.get("type") != _ENCRYPTED]
        if self._to_inject:
            to_device[:0] = self._to_inject
            self._to_inject = []
            self._released.clear()
        return body


def _json(status: int, headers: dict[str, str], body: Any) -> web.Response:
    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    return web.Response(status=status, headers=headers, body=json.dumps(body).encode(), content_type="application/json")


def _forwardable(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}


def _upstream_token(token: str) -> str:
    return token.split(_MARK, 1)[0]
