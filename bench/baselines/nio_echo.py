"""A minimal matrix-nio echo bot: joins on invite, answers each text as a reply. No persistence.

Configured by BENCH_HOMESERVER, BENCH_USER_ID, BENCH_PASSWORD; touches BENCH_READY_FILE after its first sync.
"""

import asyncio
import os
from pathlib import Path

from nio import AsyncClient, InviteMemberEvent, MatrixRoom, RoomMessageText


async def main() -> None:
    client = AsyncClient(os.environ["BENCH_HOMESERVER"], os.environ["BENCH_USER_ID"])
    await client.login(os.environ["BENCH_PASSWORD"], device_name="nio-echo")

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == client.user_id and event.membership == "invite":
            await client.join(room.room_id)

    async def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != client.user_id:
            reply = {
                "msgtype": "m.text",
                "body": event.body,
                "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
            }
            await client.room_send(room.room_id, "m.room.message", reply)

    client.add_event_callback(on_invite, InviteMemberEvent)  # type: ignore[arg-type]
    client.add_event_callback(on_text, RoomMessageText)  # type: ignore[arg-type]
    await client.sync(timeout=0)
    await asyncio.to_thread(Path(os.environ["BENCH_READY_FILE"]).touch)
    await client.sync_forever(timeout=30_000)


if __name__ == "__main__":
    asyncio.run(main())
