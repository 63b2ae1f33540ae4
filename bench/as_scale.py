"""Appservice mode at scale: the bot joined to 1,200 or 10,000 rooms, then restarted; seconds to /ready, peak RSS.

The rooms are made by the harness directly, as the bot (its as token), with the state the bot itself writes
(adapters/matrix/topology.py): per person a Space with `dev.surfaces.space`, chat rooms with their name,
`m.space.parent` and `dev.surfaces.room`, each linked from the Space by `m.space.child`; and the rows the bot
keeps for them (`spaces`, `rooms` in adapters/persistence/tables.py). Going through the bot (a DM, onboarding,
`!new`) costs minutes per thousand rooms. Left out, as nothing the bot reads at start-up depends on them: the
people are not invited (their ids are made up), no DM is made, and the power levels are Synapse's defaults.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any
from urllib.parse import quote

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.matrix import state_events as se
from adapters.persistence.tables import ROOMS, SpaceRow
from bench.appservice import AppserviceKind, ReplicaGroup, until_idle
from bench.matrix import LeanClient
from bench.rooms import bounded
from domain.model.room import STATE_VERSION

Json = dict[str, Any]
CHATS_PER_SPACE = 9  # with its Space, ten rooms per made-up person
AGENT = "echo"  # config/agents.yaml's default


async def joined_rooms(client: LeanClient) -> int:
    return len((await client.request("GET", "/joined_rooms"))["joined_rooms"])


async def one_person(client: LeanClient, server_name: str, owner: str, chats: int) -> tuple[Json, list[Json]]:
    """A Space and `chats` chat rooms as the bot makes them; returns the rows the bot would keep."""
    space_state = se.state_event(se.SPACE_STATE, {"owner": owner, "version": STATE_VERSION})
    space_body = {"preset": "private_chat", "name": "Surfaces", "creation_content": {"type": "m.space"}}
    space_id = str(
        (await client.request("POST", "/createRoom", space_body | {"initial_state": [space_state]}))["room_id"]
    )
    rooms = []
    for number in range(1, chats + 1):
        platform_chat_id = f"bench-{uuid.uuid4().hex}"
        room = {"owner": owner, "space_id": space_id, "chat_id": f"C{number}", "agent_id": AGENT}
        room |= {"platform_chat_id": platform_chat_id, "status": "active", "version": STATE_VERSION}
        initial = [
            se.state_event(se.SPACE_PARENT, se.parent_content(server_name), space_id),
            se.state_event(se.ROOM_STATE, room),
        ]
        body = {"preset": "private_chat", "name": f"Chat {number}", "initial_state": initial}
        room_id = str((await client.request("POST", "/createRoom", body))["room_id"])
        path = f"/rooms/{quote(space_id)}/state/{se.SPACE_CHILD}/{quote(room_id)}"
        await client.request("PUT", path, se.child_content(server_name))
        rooms.append(
            {"room_id": room_id, "owner": owner, "space_id": space_id, "chat_number": number, "name": f"Chat {number}"}
            | {"agent_id": AGENT, "platform_chat_id": platform_chat_id, "status": "active", "message_count": 0}
        )
    space = {"owner": owner, "display_name": owner[1:].split(":")[0], "space_id": space_id, "chats_created": chats}
    return space, rooms


async def grow(kind: AppserviceKind, homeserver_url: str, target: int, parallel: int) -> tuple[int, int]:
    """Rooms made until the bot has joined `target`; returns (joined now, rooms made)."""
    client = LeanClient(homeserver_url, kind.user_id, kind.registration.as_token)
    server_name = kind.registration.server_name
    try:
        missing = target - await joined_rooms(client)
        people = max(0, -(-missing // (CHATS_PER_SPACE + 1)))
        tag = uuid.uuid4().hex[:6]
        jobs = [
            lambda n=n: one_person(client, server_name, f"@as-scale-{tag}-{n}:{server_name}", CHATS_PER_SPACE)
            for n in range(people)
        ]
        made = await bounded(parallel, jobs)  # type: ignore[arg-type]
        await store_rows(kind.database_url, made)
        return await joined_rooms(client), sum(1 + len(rooms) for _, rooms in made)
    finally:
        await client.close()


async def store_rows(database_url: str, made: list[tuple[Json, list[Json]]]) -> None:
    if not made:
        return
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(SpaceRow.__table__), [space for space, _ in made])
            await connection.execute(insert(ROOMS), [room for _, rooms in made for room in rooms])
    finally:
        await engine.dispose()


async def at_scale(group: ReplicaGroup, kind: AppserviceKind, homeserver_url: str, target: int, parallel: int) -> Json:
    """Rooms made while one replica runs (it takes their transactions in, as in production), then a restart."""
    (replica,) = group.replicas
    started = time.monotonic()
    joined, made = await grow(kind, homeserver_url, target, parallel)
    setup_s = time.monotonic() - started
    drained_s = await until_idle(group)
    peak_creating = replica.peak_rss_mb
    await replica.stop()
    seconds = await replica.start()
    cpu_to_ready = replica.cpu_seconds()
    await asyncio.sleep(2)  # settled: what stays resident after start-up, against the peak
    replica.sample()
    return {
        "rooms_joined": joined,
        "rooms_made": made,
        "setup_s": round(setup_s, 1),
        "s_until_transactions_drained": drained_s,
        "seconds_to_ready": round(seconds, 3),
        # Less sensitive to a busy machine than the wall clock: the bot's CPU until ready, and its own start-up.
        "cpu_s_to_ready": round(cpu_to_ready, 2),
        "s_logged_start_to_ready": replica.logged_start_s(),
        "peak_rss_mb_creating": round(peak_creating, 1),
        "peak_rss_mb_restarted": round(replica.peak_rss_mb, 1),
        "rss_mb_2s_after_ready": round(replica.rss_now_mb(), 1),
    }
