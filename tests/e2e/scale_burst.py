"""People with chats, a burst of messages into all of them, and the check: every one answered once, in order.

The answers are read back from the rooms' histories on the homeserver (`/messages`), never from a client's
sync, so what is counted is what a person would see. Sending is idempotent (one transaction id per message,
retried): a send cut off by a homeserver restart is not sent twice.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote

import aiohttp

from bench.matrix import LeanClient, MatrixHTTPError, reply_target
from tests.e2e.conftest import BotUnderTest
from tests.e2e.harness import MatrixUser
from tests.e2e.helpers import new_chat, onboard

Json = dict[str, Any]
PASSWORD = "scale-user-password"
POLL_S = 1.0
POLL_PARALLEL = 10


@dataclass(frozen=True)
class Person:
    user_id: str
    token: str
    rooms: tuple[str, ...]


@dataclass(frozen=True)
class _Bot:
    """What the onboarding helpers need of a bot: its user id."""

    user_id: str


async def onboard_person(url: str, bot_id: str, user_id: str, chats: int) -> Person:
    """Invites the bot to a DM (Space and first chat follow), then `!new` until the person has `chats` chats."""
    user = await MatrixUser.login(url, user_id, PASSWORD)
    bot = cast(BotUnderTest, _Bot(bot_id))
    try:
        _, _, first = await onboard(user, bot)
        rooms = [first]
        while len(rooms) < chats:
            rooms.append(await new_chat(user, bot, first))
        return Person(user_id, str(user.client.access_token), tuple(rooms))
    finally:
        await user.close()


@dataclass
class Burst:
    """`per_room` messages into each room of each person, all rooms at once; then answers counted until done."""

    url: str
    bot_id: str
    people: list[Person]
    per_room: int
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    asked: dict[str, tuple[str, str]] = field(default_factory=dict)  # event id -> (room, text)
    errors: list[str] = field(default_factory=list)  # polls that failed (e.g. the homeserver was down)

    async def send_all(self) -> None:
        """Every room at once; within a room one message after the other, so "the order asked" is the order sent.

        (Sent concurrently into one room, messages get origin timestamps in an order that may differ from the
        room's timeline order, and then the order asked is not defined.)
        """
        clients = {p.user_id: LeanClient(self.url, p.user_id, p.token) for p in self.people}

        async def one_room(client: LeanClient, room: str, texts: list[str]) -> None:
            for text in texts:
                self.asked[await send_idempotent(client, room, text)] = (room, text)

        rooms = [
            one_room(clients[p.user_id], room, [f"{self.tag} p{u} r{r} m{m}" for m in range(self.per_room)])
            for u, p in enumerate(self.people)
            for r, room in enumerate(p.rooms)
        ]
        try:
            await asyncio.gather(*rooms)
        finally:
            await asyncio.gather(*(client.close() for client in clients.values()))

    async def run(
        self, timeout: float, on_progress: Callable[[int], Awaitable[None]] | None = None
    ) -> dict[str, list[Json]]:
        """Sends, and meanwhile polls the rooms (so `on_progress` sees answers while messages are still being
        sent) until every message is sent and answered, or `timeout`; returns the rooms' histories."""
        deadline = time.monotonic() + timeout
        sending = asyncio.create_task(self.send_all())
        histories: dict[str, list[Json]] = {}
        async with _Readers(self.url, self.people) as readers:
            while True:
                await asyncio.sleep(POLL_S)
                await self._poll(readers, histories, done=self.answers(histories))
                answered = len(self.answers(histories))
                if on_progress is not None:
                    await on_progress(answered)
                failed = sending.done() and sending.exception() is not None
                finished = sending.done() and answered == len(self.asked)
                if failed or finished or time.monotonic() > deadline:
                    break
        await sending  # its failure, if it failed, is the test's
        return histories

    async def _poll(self, readers: _Readers, histories: dict[str, list[Json]], done: Counter[str]) -> None:
        """Reads again the rooms that still wait for an answer, a few at a time."""
        gate = asyncio.Semaphore(POLL_PARALLEL)
        waiting = {room for event_id, (room, _) in list(self.asked.items()) if event_id not in done}
        waiting |= {room for p in self.people for room in p.rooms if room not in histories}

        async def one(room: str) -> None:
            async with gate:
                try:
                    histories[room] = await readers.history(room)
                except (aiohttp.ClientError, MatrixHTTPError, TimeoutError) as error:
                    self.errors.append(f"{room}: {error}")

        await asyncio.gather(*(one(room) for room in waiting))

    async def histories(self) -> dict[str, list[Json]]:
        async with _Readers(self.url, self.people) as readers:
            return {room: await readers.history(room) for room in {room for room, _ in self.asked.values()}}

    def answers(self, histories: dict[str, list[Json]]) -> Counter[str]:
        """How many answers of the bot reply to each message asked."""
        return Counter(
            target
            for events in histories.values()
            for event in events
            if event.get("sender") == self.bot_id and (target := reply_target(event)) in self.asked
        )

    def problems(self, histories: dict[str, list[Json]]) -> list[str]:
        """Everything that is not "each message answered exactly once, with its echo, in the order asked"."""
        counts = self.answers(histories)
        found = [f"{event_id} ({self.asked[event_id][1]}): {n} answers" for event_id, n in counts.items() if n != 1]
        found += [
            f"{event_id} ({text}): unanswered" for event_id, (_, text) in self.asked.items() if event_id not in counts
        ]
        for room, events in histories.items():
            asked = [e["event_id"] for e in events if e.get("event_id") in self.asked]
            answers = [e for e in events if e.get("sender") == self.bot_id and reply_target(e) in self.asked]
            found += [
                f"{room}: answer {e['content'].get('body')!r} to {self.asked[str(reply_target(e))][1]!r}"
                for e in answers
                if e["content"].get("body") != self.asked[str(reply_target(e))][1]
            ]
            order = [reply_target(e) for e in answers]
            if order != [event_id for event_id in asked if event_id in order]:
                position = {event_id: n for n, event_id in enumerate(asked)}
                answered = [position.get(str(target), -1) for target in order]
                found.append(f"{room}: answers to messages #{answered} of the {len(asked)} asked, in timeline order")
        return found


async def send_idempotent(client: LeanClient, room: str, text: str, attempts: int = 30) -> str:
    """One message under one transaction id, retried: the homeserver returns the same event for a repeat."""
    path = f"/rooms/{quote(room)}/send/m.room.message/{uuid.uuid4().hex}"
    for attempt in range(attempts):
        try:
            return str((await client.request("PUT", path, {"msgtype": "m.text", "body": text}))["event_id"])
        except (aiohttp.ClientError, MatrixHTTPError, TimeoutError):
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(1)
    raise AssertionError("unreachable")


class _Readers:
    """One client per person, to read their rooms' histories; closed on exit."""

    def __init__(self, url: str, people: list[Person]) -> None:
        self._people = [LeanClient(url, p.user_id, p.token) for p in people]
        self._clients = {room: client for p, client in zip(people, self._people, strict=True) for room in p.rooms}

    async def __aenter__(self) -> _Readers:
        return self

    async def __aexit__(self, *_: object) -> None:
        await asyncio.gather(*(client.close() for client in self._people))

    async def history(self, room: str) -> list[Json]:
        """Every m.room.message of the room, oldest first (all pages of `/messages`)."""
        events: list[Json] = []
        token: str | None = None
        while True:
            params = {"dir": "b", "limit": "500", "filter": json.dumps({"types": ["m.room.message"]})}
            if token:
                params["from"] = token
            page = await self._clients[room].request("GET", f"/rooms/{quote(room)}/messages", None, **params)
            events.extend(page.get("chunk", []))
            if not page.get("chunk") or not page.get("end") or page.get("end") == token:
                return events[::-1]
            token = str(page["end"])
