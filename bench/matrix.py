"""A lean Matrix client for the load and the measurements: raw JSON over aiohttp, no event parsing.

The measuring side must cost as little as possible: nio spends 130-180 µs per event validating
schemas, which would land in every round trip measured and pull the ratios towards 1.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from typing import Any
from urllib.parse import quote

import aiohttp

Json = dict[str, Any]
_CLIENT = "/_matrix/client/v3"
_POLL_MS = 30_000
# A bot's answer in an encrypted room is m.room.encrypted; its `m.relates_to` stays in cleartext.
MESSAGE_TYPES = ["m.room.message", "m.room.encrypted"]


class MatrixHTTPError(RuntimeError):
    pass


class LeanClient:
    """One logged-in user; every call raises on a non-2xx answer."""

    def __init__(self, base_url: str, user_id: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_id = user_id
        self.token = token
        # No connection cap: a burst really is sent at once.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    @classmethod
    async def login(cls, base_url: str, user_id: str, password: str, device: str = "bench") -> LeanClient:
        body = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
            "initial_device_display_name": device,
        }
        async with aiohttp.ClientSession() as session, session.post(f"{base_url}{_CLIENT}/login", json=body) as r:
            data = await r.json()
            if r.status != 200:
                raise MatrixHTTPError(f"login of {user_id}: {r.status} {data}")
        return cls(base_url, user_id, str(data["access_token"]))

    async def close(self) -> None:
        await self._session.close()

    async def request(self, method: str, path: str, body: Json | None = None, **params: str) -> Json:
        headers = {"Authorization": f"Bearer {self.token}"}
        url = f"{self.base_url}{_CLIENT}{path}"
        async with self._session.request(method, url, json=body, params=params or None, headers=headers) as r:
            raw = await r.read()
            if r.status != 200:
                raise MatrixHTTPError(f"{method} {path} as {self.user_id}: {r.status} {raw[:300]!r}")
        data: Json = json.loads(raw)
        return data

    async def create_room(self, invite: list[str], name: str = "") -> str:
        body: Json = {"preset": "private_chat", "invite": invite}
        if name:
            body["name"] = name
        return str((await self.request("POST", "/createRoom", body))["room_id"])

    async def joined_members(self, room_id: str) -> set[str]:
        return set((await self.request("GET", f"/rooms/{quote(room_id)}/joined_members"))["joined"])

    async def send_text(self, room_id: str, text: str) -> str:
        path = f"/rooms/{quote(room_id)}/send/m.room.message/{uuid.uuid4().hex}"
        return str((await self.request("PUT", path, {"msgtype": "m.text", "body": text}))["event_id"])

    async def sync(self, since: str | None, timeout_ms: int, sync_filter: Json, full_state: bool = False) -> Json:
        params = {"timeout": str(timeout_ms), "filter": json.dumps(sync_filter)}
        if since:
            params["since"] = since
        if full_state:
            params["full_state"] = "true"
        return await self.request("GET", "/sync", **params)

    async def messages_from(self, room_id: str, sender: str) -> list[Json]:
        """Every message (m.room.message or m.room.encrypted) `sender` posted in the room, newest first (all pages)."""
        events: list[Json] = []
        token: str | None = None
        event_filter = json.dumps({"types": MESSAGE_TYPES, "senders": [sender]})
        while True:
            params = {"dir": "b", "limit": "500", "filter": event_filter}
            if token:
                params["from"] = token
            page = await self.request("GET", f"/rooms/{quote(room_id)}/messages", **params)
            events.extend(page.get("chunk", []))
            if not page.get("chunk") or not page.get("end") or page.get("end") == token:
                return events
            token = str(page["end"])


def reply_target(event: Json) -> str | None:
    relates = event.get("content", {}).get("m.relates_to")
    target = relates.get("m.in_reply_to", {}).get("event_id") if isinstance(relates, dict) else None
    return target if isinstance(target, str) else None


class AnswerWatcher:
    """Long-polls one user's /sync and notes when each answer of `bot` arrives, keyed by what it replies to."""

    def __init__(self, client: LeanClient, bot_user_id: str) -> None:
        self.client = client
        self.arrivals: dict[str, list[float]] = defaultdict(list)  # replied-to event id -> monotonic times
        self.last_arrival: float | None = None
        self.limited_timelines = 0  # the watcher would have missed answers; the /messages count still holds
        self._filter: Json = {
            "room": {
                "timeline": {"limit": 100, "types": MESSAGE_TYPES, "senders": [bot_user_id]},
                "state": {"types": []},
                "ephemeral": {"types": []},
                "account_data": {"types": []},
            },
            "presence": {"types": []},
            "account_data": {"types": []},
        }
        self._waiters: dict[str, asyncio.Future[float]] = {}
        self._task: asyncio.Task[None] | None = None
        self._since: str | None = None

    async def start(self) -> None:
        self._since = str((await self.client.sync(None, 0, self._filter))["next_batch"])
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def answer_time(self, event_id: str, wait_s: float) -> float | None:
        """When the first answer to `event_id` arrived (monotonic), or None after `wait_s` seconds."""
        if self.arrivals.get(event_id):
            return self.arrivals[event_id][0]
        future = self._waiters.setdefault(event_id, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(future), wait_s)
        except TimeoutError:
            return None

    async def _loop(self) -> None:
        while True:
            try:
                data = await self.client.sync(self._since, _POLL_MS, self._filter)
            except (aiohttp.ClientError, MatrixHTTPError, TimeoutError):
                await asyncio.sleep(0.5)
                continue
            now = time.monotonic()
            self._since = str(data["next_batch"])
            for room in data.get("rooms", {}).get("join", {}).values():
                timeline = room.get("timeline", {})
                self.limited_timelines += bool(timeline.get("limited") and timeline.get("prev_batch"))
                for event in timeline.get("events", []):
                    self._note(event, now)

    def _note(self, event: Json, now: float) -> None:
        target = reply_target(event)
        if target is None:
            return
        self.arrivals[target].append(now)
        self.last_arrival = now
        future = self._waiters.pop(target, None)
        if future is not None and not future.done():
            future.set_result(now)
