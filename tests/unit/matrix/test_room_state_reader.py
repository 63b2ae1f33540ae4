"""AppserviceRoomStateReader against a loopback homeserver of canned JSON: the same ObservedTopology as the sync
mode's view, rooms that cannot be read left out, encrypted messages left out, every request as the bot."""

import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import pytest
import pytest_asyncio
from aiohttp import web
from nio import AsyncClient

from adapters.matrix.appservice.client import check_as_token, make_appservice_client
from adapters.matrix.appservice.room_state_reader import AppserviceRoomStateReader
from adapters.matrix.state_view import NioTopologyView
from domain.model.ids import RoomId
from ports.topology import ChatNetworkError
from tests.servers.loopback import serve
from tests.unit.matrix.sync_json import ALICE, BOT, CHAT, SPACE, joined, message, reply, room_record, state, sync

GONE = "!gone:example.org"
SPACE_STATE = [
    state("m.room.create", {"type": "m.space"}),
    state("dev.surfaces.space", {"owner": ALICE, "version": 1}),
    state("m.room.name", {"name": "Lambda — Alice"}),
    state("m.space.child", {"via": ["example.org"]}, state_key=CHAT),
]
ASKED, ANSWERED = message("answered question"), message("open question")
ENCRYPTED = {
    "type": "m.room.encrypted",
    "sender": ALICE,
    "event_id": "$encrypted",
    "origin_server_ts": 3,
    "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "xx", "session_id": "s", "sender_key": "k"},
}
CHAT_STATE = [
    state("m.room.create", {}),
    state("dev.surfaces.room", room_record()),
    state("m.room.name", {"name": "Chat 1"}),
    state("m.space.parent", {"via": ["example.org"], "canonical": True}, state_key=SPACE),
]
CHAT_TIMELINE = [ASKED, reply(ASKED["event_id"]), ANSWERED, ENCRYPTED]


class Homeserver:
    """The four endpoints the reader and the token check use; notes every request path and query."""

    def __init__(self) -> None:
        self.rooms: dict[str, tuple[list[Any], list[Any]]] = {
            SPACE: (SPACE_STATE, []),
            CHAT: (CHAT_STATE, CHAT_TIMELINE),
        }
        self.joined = [SPACE, CHAT]
        self.requests: list[web.Request] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/_matrix/client/v3/account/whoami", self._whoami)
        app.router.add_get("/_matrix/client/v3/joined_rooms", self._joined)
        app.router.add_get("/_matrix/client/v3/rooms/{room}/state", self._state)
        app.router.add_get("/_matrix/client/v3/rooms/{room}/messages", self._messages)
        return app

    async def _whoami(self, request: web.Request) -> web.Response:
        return web.json_response({"user_id": BOT})

    async def _joined(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        return web.json_response({"joined_rooms": self.joined})

    async def _state(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        room = self.rooms.get(unquote(request.match_info["room"]))
        if room is None:
            return web.json_response({"errcode": "M_FORBIDDEN", "error": "not in room"}, status=403)
        return web.json_response(room[0])

    async def _messages(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        _, timeline = self.rooms[unquote(request.match_info["room"])]
        limit = int(request.query["limit"])
        return web.json_response({"chunk": list(reversed(timeline))[:limit], "start": "t1", "end": "t0"})


@pytest_asyncio.fixture
async def homeserver() -> AsyncIterator[tuple[Homeserver, AsyncClient]]:
    server = Homeserver()
    async with serve(server.app()) as url:
        client = make_appservice_client(url, BOT, "as-token")
        await check_as_token(client)
        try:
            yield server, client
        finally:
            await client.close()


def reader(client: AsyncClient, timeline_limit: int = 100) -> AppserviceRoomStateReader:
    return AppserviceRoomStateReader(client, timeline_limit, rooms_per_s=1000)


async def test_rooms_are_read_as_the_sync_view_reads_them(homeserver: tuple[Homeserver, AsyncClient]) -> None:
    _, client = homeserver
    read = reader(client)
    await read.refresh()

    view = NioTopologyView()
    view.absorb(sync({SPACE: joined(SPACE_STATE), CHAT: joined(CHAT_STATE, CHAT_TIMELINE[:-1])}), BOT)
    assert await read.observe() == await view.observe()
    chat = (await read.observe()).room(RoomId(CHAT))
    assert chat is not None and chat.record is not None and chat.parents == {SPACE}
    assert [m.event_id for m in chat.recent] == [ASKED["event_id"], ANSWERED["event_id"]]
    assert chat.answered == {ASKED["event_id"]}


async def test_encrypted_messages_are_left_out_of_the_recent_timeline(
    homeserver: tuple[Homeserver, AsyncClient],
) -> None:
    _, client = homeserver
    read = reader(client)
    await read.refresh()
    chat = (await read.observe()).room(RoomId(CHAT))
    assert chat is not None and "$encrypted" not in {m.event_id for m in chat.recent}


async def test_a_room_that_cannot_be_read_is_left_out_and_logged(
    homeserver: tuple[Homeserver, AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    server, client = homeserver
    server.joined = [GONE, SPACE, CHAT]
    read = reader(client)
    with caplog.at_level(logging.INFO, logger="adapters.matrix.appservice.room_state_reader"):
        await read.refresh()
    assert [room.room_id for room in (await read.observe()).rooms] == [CHAT, SPACE]
    (logged,) = [r for r in caplog.records if r.getMessage() == "room_unreadable"]
    assert logged.__dict__["room_id"] == GONE


async def test_every_request_is_the_bots_and_the_timeline_asks_for_the_set_limit(
    homeserver: tuple[Homeserver, AsyncClient],
) -> None:
    server, client = homeserver
    await reader(client, timeline_limit=2).refresh()
    assert {r.query.get("user_id") for r in server.requests} == {BOT}
    pages = [r for r in server.requests if r.path.endswith("/messages")]
    assert {(r.query["dir"], r.query["limit"]) for r in pages} == {("b", "2")}


async def test_an_unreachable_homeserver_fails_the_read(homeserver: tuple[Homeserver, AsyncClient]) -> None:
    _, client = homeserver
    client.homeserver = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(ChatNetworkError):
        await reader(client).refresh()


async def test_observe_before_any_read_or_after_forget_is_refused(homeserver: tuple[Homeserver, AsyncClient]) -> None:
    _, client = homeserver
    read = reader(client)
    with pytest.raises(RuntimeError):
        await read.observe()
    await read.refresh()
    read.forget()
    with pytest.raises(RuntimeError):
        await read.observe()
