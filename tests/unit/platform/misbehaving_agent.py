"""A platform agent that misbehaves on request, for the http adapter's error mapping: each chat id is a scenario."""

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
PEERS = web.AppKey("peers", list[object])


async def _events(request: web.Request, body: str, stall: float = 0.0) -> web.StreamResponse:
    response = web.StreamResponse(headers=SSE_HEADERS)
    await response.prepare(request)
    await response.write(body.encode())
    if stall:
        await asyncio.sleep(stall)
    return response


async def _drop_connection(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers=SSE_HEADERS)
    await response.prepare(request)
    await response.write(b'event: delta\ndata: {"text": "half an ans"}\n\n')
    assert request.transport is not None
    request.transport.abort()
    return response


def _status(status: int, message: str | None = None) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def answer(request: web.Request) -> web.StreamResponse:
        if message is None:
            return web.Response(status=status, text="plain failure")
        return web.json_response({"error": {"message": message, "retryable": status >= 500}}, status=status)

    return answer


def _sse(body: str, stall: float = 0.0) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def answer(request: web.Request) -> web.StreamResponse:
        return await _events(request, body, stall)

    return answer


SCENARIOS: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = {
    "http-500": _status(500, "database on fire"),
    "http-503-plain": _status(503),
    "http-429": _status(429, "slow down"),
    "http-404": _status(404, "no agent called reference here"),
    "http-422": _status(422, "attachment path must be relative"),
    "http-501": _status(501, "this platform keeps no context"),
    "not-sse": _status(200, "json, not events"),
    "cut-off": _sse('event: delta\ndata: {"text": "Once upon"}\n\n'),
    "dropped": _drop_connection,
    "stalled": _sse('event: delta\ndata: {"text": "thinking"}\n\n', stall=5.0),
    "retryable-error": _sse('event: error\ndata: {"message": "model reloading", "retryable": true}\n\n'),
    "final-error": _sse('event: error\ndata: {"message": "content refused", "retryable": false}\n\n'),
    "malformed": _sse("event: delta\ndata: not json\n\n"),
    "ok": _sse('event: delta\ndata: {"text": "ok"}\n\nevent: done\ndata: {}\n\n'),
    "done-then-stall": _sse("event: done\ndata: {}\n\n", stall=5.0),
    "tolerant": _sse(
        ': ping\n\nevent: progress\ndata: {"step": 1}\n\n'
        'event: delta\r\ndata: {"text": "fine"}\r\n\r\n'
        'event: done\ndata: {}\n\nevent: delta\ndata: {"text": "after done"}\n\n'
    ),
}


async def _message(request: web.Request) -> web.StreamResponse:
    assert request.transport is not None
    request.app[PEERS].append(request.transport.get_extra_info("peername"))
    return await SCENARIOS[request.match_info["chat_id"]](request)


async def _context(request: web.Request) -> web.StreamResponse:
    return await SCENARIOS[request.match_info["chat_id"]](request)


def make_misbehaving_app() -> web.Application:
    app = web.Application()
    app[PEERS] = []
    app.router.add_post("/v1/chats/{chat_id}/messages", _message)
    app.router.add_route("*", "/v1/chats/{chat_id}/context", _context)
    app.router.add_route("*", "/v1/chats/{chat_id}", _context)
    app.router.add_post("/v1/chats/{chat_id}/title", _context)
    app.router.add_get("/health", _status(503, "warming up"))
    return app
