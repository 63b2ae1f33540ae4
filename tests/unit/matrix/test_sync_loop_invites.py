"""Invites found by the first sync wait for `run`, though the joined rooms of that response are let go."""

import asyncio
from typing import cast

from nio import AsyncClient, SyncResponse

from adapters.matrix.room_queues import KeyedWorkQueues
from adapters.matrix.state_view import NioTopologyView
from adapters.matrix.sync_loop import MatrixSyncLoop
from domain.model.ids import RoomId, UserId
from domain.model.messages import Invitation, RoomEvent
from tests.unit.fakes.unit_of_work import FakeStore, FakeUnitOfWorkFactory
from tests.unit.matrix.sync_json import ALICE, BOT, CHAT, joined, message, state
from tests.unit.matrix.test_sync_loop_backfill import ScriptedClient

DM = "!dm:example.org"


def first_sync_with_an_invite() -> SyncResponse:
    invite = {"invite_state": {"events": [state("m.room.member", {"membership": "invite"}, BOT, ALICE)]}}
    raw = {
        "next_batch": "s1",
        "rooms": {"join": {CHAT: joined(timeline=[message("hello")])}, "leave": {}, "invite": {DM: invite}},
    }
    response = SyncResponse.from_dict(raw)
    assert isinstance(response, SyncResponse), response
    return response


async def test_an_invite_of_the_first_sync_is_accepted_once_running() -> None:
    accepted: list[Invitation] = []

    async def accept(invitation: Invitation) -> None:
        accepted.append(invitation)

    async def handle(_: RoomEvent) -> None:
        return None

    client = ScriptedClient(syncs=[first_sync_with_an_invite()])
    view = NioTopologyView()
    loop = MatrixSyncLoop(
        cast(AsyncClient, client), FakeUnitOfWorkFactory(FakeStore()), KeyedWorkQueues(handle), accept, view
    )

    await loop.first_sync()
    await asyncio.sleep(0)
    assert accepted == []
    assert [room.room_id for room in (await view.observe()).rooms] == [CHAT]

    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    await asyncio.wait_for(client.exhausted.wait(), 5)
    stop.set()
    await asyncio.wait_for(running, 5)
    await loop.shutdown(5)

    assert accepted == [Invitation(room_id=RoomId(DM), inviter=UserId(ALICE))]
