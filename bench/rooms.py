"""Users and rooms for each bot: through the bot's own onboarding and `!new` for surfaces, by invite for baselines."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

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
    """A user with the rooms they talk to the bot in, a lean client and a watcher for the bot's answers."""

    client: LeanClient
    rooms: list[str]
    watcher: AnswerWatcher | None = None
    extra: dict[str, str] = field(default_factory=dict)

    async def watch(self, bot_user_id: str) -> AnswerWatcher:
        self.watcher = AnswerWatcher(self.client, bot_user_id)
        await self.watcher.start()
        return self.watcher

    async def close(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
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
