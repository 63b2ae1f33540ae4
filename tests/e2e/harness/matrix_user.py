"""An ordinary Matrix user for e2e tests: a thin nio client that fails loudly on every error."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    JoinResponse,
    LoginResponse,
    MemoryDownloadResponse,
    ReceiptEvent,
    RoomCreateResponse,
    RoomGetStateResponse,
    RoomInviteResponse,
    RoomMessagesResponse,
    RoomPreset,
    RoomPutStateResponse,
    RoomSendResponse,
    SpaceGetHierarchyResponse,
    SyncResponse,
    TypingNoticeEvent,
    UploadResponse,
)

Event = dict[str, Any]
Predicate = Callable[[str, Event], bool]
_R = TypeVar("_R")

# Big enough that a burst between two 1-second syncs is never cut off (a `limited` timeline would
# silently drop events from the log; the bot handles that, this test client does not).
_SYNC_FILTER = {"room": {"timeline": {"limit": 200}}}
_POLL_MS = 1000


def _expect(response: object, expected: type[_R], action: str) -> _R:
    """nio returns errors as values; a test must never carry on past one."""
    if isinstance(response, ErrorResponse) or not isinstance(response, expected):
        raise AssertionError(f"{action} failed: {response}")
    return response


class MatrixUser:
    """A logged-in user; every timeline event it syncs is kept in order in `events`."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.events: list[tuple[str, Event]] = []
        self._seen_ids: set[str] = set()
        # Every typing notice seen: (room id, the users typing then), in sync order.
        self.typing: list[tuple[str, tuple[str, ...]]] = []
        # Every read receipt seen: (room id, event id, the reader), in sync order.
        self.receipts: list[tuple[str, str, str]] = []
        self._invites: list[str] = []
        self._invites_done: set[str] = set()  # returned by wait_for_invite, joined, or left

    @classmethod
    async def login(cls, homeserver_url: str, user_id: str, password: str) -> MatrixUser:
        # Bounded retries: nio's default retries timeouts and 429s forever, which would hang a test.
        config = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=2, request_timeout=30, encryption_enabled=False)
        client = AsyncClient(homeserver_url, user_id, config=config)
        response = await client.login(password, device_name="e2e-test")
        if not isinstance(response, LoginResponse):
            await client.close()
            raise AssertionError(f"login of {user_id} failed: {response}")
        return cls(client)

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def close(self) -> None:
        await self.client.close()

    # -- rooms -----------------------------------------------------------------------------------------

    async def create_dm(self, invitee: str) -> str:
        # trusted_private_chat with is_direct is what Element sends for a new DM.
        response = await self.client.room_create(
            is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[invitee]
        )
        return str(_expect(response, RoomCreateResponse, f"create DM with {invitee}").room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        response = await self.client.room_invite(room_id, user_id)
        _expect(response, RoomInviteResponse, f"invite {user_id} to {room_id}")

    async def join(self, room_id: str) -> None:
        _expect(await self.client.join(room_id), JoinResponse, f"join {room_id}")

    async def put_state(self, room_id: str, event_type: str, content: dict[str, Any], state_key: str = "") -> str:
        response = await self.client.room_put_state(room_id, event_type, content, state_key)
        return str(_expect(response, RoomPutStateResponse, f"put {event_type} in {room_id}").event_id)

    async def room_state(self, room_id: str) -> list[Event]:
        response = await self.client.room_get_state(room_id)
        return list(_expect(response, RoomGetStateResponse, f"state of {room_id}").events)

    async def hierarchy(self, space_id: str) -> dict[str, Any]:
        """All pages of `/hierarchy` merged into one `{"rooms": [...]}`."""
        rooms: list[Event] = []
        page: str | None = None
        while True:
            response = await self.client.space_get_hierarchy(space_id, from_page=page)
            result = _expect(response, SpaceGetHierarchyResponse, f"hierarchy of {space_id}")
            rooms.extend(result.rooms)
            page = result.next_batch
            if not page:
                return {"rooms": rooms}

    async def messages(self, room_id: str, limit: int = 50) -> list[Event]:
        """The newest `limit` events of the room, newest first, as raw event dicts."""
        response = await self.client.room_messages(room_id, limit=limit)
        chunk = _expect(response, RoomMessagesResponse, f"messages of {room_id}").chunk
        return [_with_room_id(room_id, event.source) for event in chunk]

    # -- sending ---------------------------------------------------------------------------------------

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        response = await self.client.room_send(room_id, event_type, content)
        return str(_expect(response, RoomSendResponse, f"send {event_type} to {room_id}").event_id)

    async def send_text(self, room_id: str, body: str) -> str:
        return await self.send_event(room_id, "m.room.message", {"msgtype": "m.text", "body": body})

    async def send_in_thread(self, room_id: str, root: str, body: str) -> str:
        """A text in the thread of `root`, as Element sends it (with the reply fallback to the root)."""
        relates = {
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": root},
        }
        content = {"msgtype": "m.text", "body": body, "m.relates_to": relates}
        return await self.send_event(room_id, "m.room.message", content)

    async def send_file(self, room_id: str, path: Path, mimetype: str | None = None, body: str | None = None) -> str:
        """Upload `path` and post it as m.image / m.audio / m.video / m.file by its mimetype."""
        mimetype = mimetype or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        mxc = await self.upload(path.read_bytes(), mimetype, path.name)
        content = {
            "msgtype": _msgtype_for(mimetype),
            "body": body or path.name,
            "filename": path.name,
            "url": mxc,
            "info": {"mimetype": mimetype, "size": path.stat().st_size},
        }
        return await self.send_event(room_id, "m.room.message", content)

    async def upload(self, data: bytes, mimetype: str, filename: str) -> str:
        response, _ = await self.client.upload(
            lambda *_: data, content_type=mimetype, filename=filename, filesize=len(data)
        )
        return str(_expect(response, UploadResponse, f"upload {filename}").content_uri)

    async def download(self, mxc: str) -> bytes:
        response = await self.client.download(mxc=mxc)
        return bytes(_expect(response, MemoryDownloadResponse, f"download {mxc}").body)

    # -- receiving -------------------------------------------------------------------------------------

    async def sync_once(self, timeout_ms: int = 0) -> SyncResponse:
        # nio puts no client-side timeout on a first sync; never let one hang a test.
        async with asyncio.timeout(timeout_ms / 1000 + 30):
            response = await self.client.sync(timeout=timeout_ms, sync_filter=_SYNC_FILTER)
        sync = _expect(response, SyncResponse, f"sync of {self.user_id}")
        self._record(sync)
        return sync

    def mark(self) -> int:
        """A position in `events`: pass it as `after=` to match only events synced later."""
        return len(self.events)

    async def wait_for(self, predicate: Predicate, timeout: float = 10, after: int = 0) -> Event:
        """The first event (from `after` on, already seen ones included) with predicate(room_id, event).

        The returned dict carries `room_id` even when the sync event lacked it.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        checked = after
        while True:
            for room_id, event in self.events[checked:]:
                if predicate(room_id, event):
                    return event
            checked = max(checked, len(self.events))
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no matching event within {timeout} s; {self._recent()}")
            await self.sync_once(min(_POLL_MS, int(remaining * 1000)))

    async def wait_for_invite(self, timeout: float = 10) -> str:
        """The oldest pending invite (see `invites_pending`); it is then no longer pending."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for room_id in self._pending():
                self._invites_done.add(room_id)
                return room_id
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"{self.user_id} got no invite within {timeout} s")
            await self.sync_once(min(_POLL_MS, int(remaining * 1000)))

    async def invites_pending(self) -> list[str]:
        """After one quick sync: invites not yet returned by `wait_for_invite`, joined or left."""
        await self.sync_once()
        return self._pending()

    def _pending(self) -> list[str]:
        return [room_id for room_id in self._invites if room_id not in self._invites_done]

    def _record(self, sync: SyncResponse) -> None:
        self._invites_done.update(sync.rooms.join, sync.rooms.leave)
        for room_id, room in sync.rooms.join.items():
            for event in room.timeline.events:
                source = _with_room_id(room_id, event.source)
                event_id = source.get("event_id")
                if event_id and event_id in self._seen_ids:
                    continue
                if event_id:
                    self._seen_ids.add(event_id)
                self.events.append((room_id, source))
            for notice in room.ephemeral:
                if isinstance(notice, TypingNoticeEvent):
                    self.typing.append((room_id, tuple(notice.users)))
                elif isinstance(notice, ReceiptEvent):
                    self.receipts.extend((room_id, r.event_id, r.user_id) for r in notice.receipts)
        for room_id in sync.rooms.invite:
            if room_id not in self._invites:
                self._invites.append(room_id)

    def _recent(self, count: int = 15) -> str:
        lines = [
            f"  {room_id} {e.get('type')} from {e.get('sender')}: {e.get('content', {}).get('body')!r}"
            for room_id, e in self.events[-count:]
        ]
        return f"last {len(lines)} of {len(self.events)} events seen:\n" + "\n".join(lines)


def _with_room_id(room_id: str, source: Event) -> Event:
    return {**source, "room_id": source.get("room_id", room_id)}


def _msgtype_for(mimetype: str) -> str:
    kind = mimetype.split("/", 1)[0]
    return {"image": "m.image", "audio": "m.audio", "video": "m.video"}.get(kind, "m.file")
