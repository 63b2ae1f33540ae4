"""A reverse proxy's 502/503/504 (an HTML page, no Matrix errcode) is told apart from a homeserver's refusal."""

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from adapters.matrix.client import make_client
from adapters.matrix.errors import MatrixRequestError
from adapters.matrix.sender import NioMessageSender
from domain.model.ids import EventId, RoomId


async def _serve(status: int, body: str, content_type: str) -> tuple[web.AppRunner, str]:
    async def answer(_: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def homeserver(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    runner, url = await _serve(*request.param)
    try:
        yield url
    finally:
        await runner.cleanup()


async def _send_reply(url: str) -> MatrixRequestError:
    client = make_client(url, "@bot:example.org")
    client.access_token = "token"
    client.user_id = "@bot:example.org"
    try:
        with pytest.raises(MatrixRequestError) as raised:
            await NioMessageSender(client).send_reply(RoomId("!r:example.org"), EventId("$e"), "hi", "txn-1")
        return raised.value
    finally:
        await client.close()


@pytest.mark.parametrize(
    "homeserver",
    [(502, "<html><body>502 Bad Gateway</body></html>", "text/html"), (503, "", "text/plain")],
    indirect=True,
)
async def test_a_gateway_error_from_a_proxy_says_the_homeserver_is_unavailable(homeserver: str) -> None:
    error = await _send_reply(homeserver)
    assert error.homeserver_unavailable and error.http_status in (502, 503)


@pytest.mark.parametrize(
    "homeserver",
    [(403, '{"errcode": "M_FORBIDDEN", "error": "not in room"}', "application/json")],
    indirect=True,
)
async def test_a_refusal_by_the_homeserver_is_not_unavailability(homeserver: str) -> None:
    error = await _send_reply(homeserver)
    assert not error.homeserver_unavailable and error.status_code == "M_FORBIDDEN"
