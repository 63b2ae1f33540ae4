"""The nio client we build parses bodies as nio does (JSON, or `{}`), sharing repeated strings."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from nio import WhoamiError, WhoamiResponse
from nio.store import SqliteStore

from adapters.matrix.client import LeanSqliteStore, loads_sharing_strings, make_client

BOT = "@bot:example.org"


@asynccontextmanager
async def homeserver(whoami: web.Response) -> AsyncIterator[str]:
    async def answer(_: web.Request) -> web.Response:
        return whoami

    app = web.Application()
    app.router.add_get("/_matrix/client/v3/account/whoami", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def whoami(url: str) -> WhoamiResponse | WhoamiError:
    client = make_client(url, BOT)
    client.access_token = "token"
    try:
        response: WhoamiResponse | WhoamiError = await client.whoami()
        return response
    finally:
        await client.close()


async def test_a_json_body_becomes_the_response() -> None:
    async with homeserver(web.json_response({"user_id": BOT, "device_id": "DEV"})) as url:
        response = await whoami(url)
    assert isinstance(response, WhoamiResponse)
    assert (response.user_id, response.device_id) == (BOT, "DEV")


async def test_a_json_error_body_becomes_the_error() -> None:
    body = {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token"}
    async with homeserver(web.json_response(body, status=401)) as url:
        response = await whoami(url)
    assert isinstance(response, WhoamiError)
    assert response.status_code == "M_UNKNOWN_TOKEN"


async def test_json_sent_with_another_content_type_is_still_read() -> None:
    body = json.dumps({"user_id": BOT, "device_id": "DEV"})
    async with homeserver(web.Response(text=body, content_type="text/plain")) as url:
        response = await whoami(url)
    assert isinstance(response, WhoamiResponse)


async def test_a_body_that_is_not_json_is_an_error_response_not_an_exception() -> None:
    async with homeserver(web.Response(text="<html>bad gateway</html>", content_type="text/html", status=502)) as url:
        response = await whoami(url)
    assert isinstance(response, WhoamiError)


def test_equal_string_values_are_one_object_and_the_result_equals_json_loads() -> None:
    event = {"type": "m.room.member", "sender": BOT, "content": {"membership": "join", "tags": ["a", "a"]}}
    padding = ["x" * 100] * 3000  # over SHARING_FROM_CHARS: a start-up sync's size
    text = json.dumps({"events": [event, dict(event)], "n": 1, "none": None, "padding": padding})

    parsed = loads_sharing_strings(text)

    assert parsed == json.loads(text)
    first, second = parsed["events"]
    assert first["sender"] is second["sender"]
    assert first["content"]["membership"] is second["content"]["membership"]


def test_a_small_body_is_parsed_as_json_loads_does() -> None:
    text = json.dumps({"events": [{"type": "m.room.message", "sender": BOT}], "n": 1})
    assert loads_sharing_strings(text) == json.loads(text)


def test_the_store_writes_nothing_when_a_sync_found_no_newly_encrypted_room(tmp_path: Path) -> None:
    # nio's own store would open a transaction and look its account up (and, with none saved, fail).
    store = LeanSqliteStore(BOT, "DEVICE", str(tmp_path), "pickle key")
    with pytest.raises(AssertionError):
        SqliteStore.save_encrypted_rooms(store, set())
    store.save_encrypted_rooms(set())
