"""Users and rooms for each bot: through the bot's own onboarding and `!new` for surfaces, by invite for baselines."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from bench.e2ee import EncryptingDevice, is_encrypted
from bench.matrix import AnswerWatcher, LeanClient
from bootstrap.homeserver import LocalSynapse
from tests.e2e.harness import MatrixUser
from tests.e2e.helpers import new_chat, onboard

PASSWORD = "bench-password"  # noqa: S105 - a throw-away account on a throw-away homeserver
_T = TypeVar("_T")


@dataclass(frozen=True)
class BotAccount:
    """What the e2e helpers need to know of a bot: its Matrix id."""

    user_id: str


@dataclass
class Person:
    """A user with the rooms they talk to the bot in, a lean client and a watcher for the bot's answers;
    with `device`, they send from their own encrypting device (the lean client is another device)."""

    client: LeanClient
    rooms: list[str]
    watcher: AnswerWatcher | None = None
    extra: dict[str, str] = field(default_factory=dict)
    device: EncryptingDevice | None = None

    async def send_text(self, room_id: str, text: str) -> str:
        if self.device is not None:
            return await self.device.send_text(room_id, text)
        return await self.client.send_text(room_id, text)

    def content_of(self, room_id: str, event: dict[str, Any]) -> dict[str, Any] | None:
        """What the event says (decrypted by the person's device when encrypted); None when unreadable."""
        if self.device is not None:
            return self.device.content_of(room_id, event)
        return dict(event.get("content", {}))

    async def watch(self, bot_user_id: str) -> AnswerWatcher:
        self.watcher = AnswerWatcher(self.client, bot_user_id)
        await self.watcher.start()
        return self.watcher

    async def close(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
        if self.device is not None:
            await self.device.close()
        await self.client.close()


async def register(synapse: LocalSynapse, prefix: str, count: int) -> list[str]:
    """Fresh accounts (the admin API is blocking: run off the event loop)."""
    tag = uuid.uuid4().hex[:6]

    def all_of_them() -> list[str]:
        return [synapse.register(f"{prefix}-{tag}-{i}", PASSWORD) for i in range(count)]

    return await asyncio.to_thread(all_of_them)


async def bounded(parallel: int, jobs: list[Callable[[], Awaitable[_T]]]) -> list[_T]:
    gate = asyncio.Semaphore(parallel)

    async def one(job: Callable[[], Awaitable[_T]]) -> _T:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def surfaces_person(url: str, bot_user_id: str, user_id: str, rooms: int) -> Person:
    """Onboarding (DM → Space + Chat 1) and `!new` until the user has `rooms` chat rooms, as a person would."""
    user = await MatrixUser.login(url, user_id, PASSWORD)
    bot = BotAccount(bot_user_id)
    try:
        _, _, chat = await onboard(user, bot)  # type: ignore[arg-type]
        chats = [chat]
        while len(chats) < rooms:
            chats.append(await new_chat(user, bot, chat))  # type: ignore[arg-type]
        return Person(LeanClient(url, user_id, str(user.client.access_token)), chats)
    finally:
        await user.close()


async def baseline_person(url: str, bot_user_id: str, user_id: str, rooms: int, wait_s: float = 60) -> Person:
    """Rooms the user creates and invites the baseline bot into; returns once the bot has joined every one."""
    client = await LeanClient.login(url, user_id, PASSWORD)
    created = [await client.create_room([bot_user_id]) for _ in range(rooms)]
    deadline = time.monotonic() + wait_s
    for room_id in created:
        while bot_user_id not in await client.joined_members(room_id):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{bot_user_id} did not join {room_id} within {wait_s} s")
            await asyncio.sleep(0.1)
    return Person(client, created)


async def surfaces_e2ee_person(
    url: str, bot_user_id: str, user_id: str, rooms: int, store: Path, wait_s: float = 60
) -> Person:
    """As `surfaces_person`, from an encrypting device: an encrypted DM (the person's choice), the Space and the
    chat rooms the bot creates (encrypted by SURFACES_ENCRYPTION=true, checked), `!new` sent encrypted."""
    device = await EncryptingDevice.login(url, user_id, PASSWORD, store / user_id.split(":")[0].lstrip("@"))
    lean = await LeanClient.login(url, user_id, PASSWORD)
    try:
        dm = await device.create_encrypted_dm(bot_user_id)
        seen = {dm}
        invited = [await device.next_invite(seen, wait_s), await device.next_invite(seen, wait_s)]
        chats = []
        for room_id in invited:
            await device.join(room_id, wait_s)
            create = await lean.request("GET", f"/rooms/{quote(room_id)}/state/m.room.create")
            if create.get("type") != "m.space":
                chats.append(room_id)
        assert len(chats) == 1, f"onboarding of {user_id} gave {len(chats)} chat rooms"
        await device.ready_to_send(chats[0], wait_s)
        while len(chats) < rooms:
            await device.send_text(chats[0], "!new")
            room_id = await device.next_invite(seen, wait_s)
            await device.join(room_id, wait_s)
            await device.ready_to_send(room_id, wait_s)
            chats.append(room_id)
        for room_id in chats:
            assert await is_encrypted(lean, room_id), f"chat room {room_id} of {user_id} is not encrypted"
        return Person(lean, chats, device=device)
    except BaseException:
        await device.close()
        await lean.close()
        raise
