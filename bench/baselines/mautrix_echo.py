"""A minimal mautrix-python echo bot: joins on invite, answers each text as a reply. No persistence.

Configured by BENCH_HOMESERVER, BENCH_USER_ID, BENCH_PASSWORD; touches BENCH_READY_FILE after its first sync.
With BENCH_ORDERED=1 (the `mautrix_ordered` diagnostic bot) it answers one message at a time per room, in order,
as surfaces does: mautrix's default handles every event in a task of its own, so a room's answers can be sent
concurrently and land in any order.
"""

import asyncio
import os
from pathlib import Path
from typing import Any

from mautrix.client import Client, InternalEventType
from mautrix.types import EventType, Membership, MessageEvent, StrippedStateEvent, UserID


async def main() -> None:
    client = Client(mxid=UserID(os.environ["BENCH_USER_ID"]), base_url=os.environ["BENCH_HOMESERVER"])
    await client.login(password=os.environ["BENCH_PASSWORD"], device_name="mautrix-echo")

    @client.on(EventType.ROOM_MEMBER)
    async def on_member(event: StrippedStateEvent) -> None:
        if event.state_key == client.mxid and event.content.membership == Membership.INVITE:
            await client.join_room(event.room_id)

    ordered = os.environ.get("BENCH_ORDERED") == "1"
    room_locks: dict[str, asyncio.Lock] = {}

    @client.on(EventType.ROOM_MESSAGE)
    async def on_message(event: MessageEvent) -> None:
        if event.sender == client.mxid:
            return
        if not ordered:
            await answer(event)
            return
        # Handlers start in timeline order; the lock (FIFO) keeps each room's answers in that order.
        async with room_locks.setdefault(event.room_id, asyncio.Lock()):
            await answer(event)

    async def answer(event: MessageEvent) -> None:
        reply = {
            "msgtype": "m.text",
            "body": event.content.body,
            "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
        }
        await client.send_message_event(event.room_id, EventType.ROOM_MESSAGE, reply)  # type: ignore[arg-type]

    @client.on(InternalEventType.SYNC_SUCCESSFUL)
    async def on_synced(_: Any) -> None:
        await asyncio.to_thread(Path(os.environ["BENCH_READY_FILE"]).touch)

    await client.start(None)


if __name__ == "__main__":
    asyncio.run(main())
