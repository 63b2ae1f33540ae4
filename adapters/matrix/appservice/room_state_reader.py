"""What the bot's rooms hold, read room by room over the client-server API: reconciliation in appservice mode.

Sync mode learns every room's state and timeline from one full-state `/sync`; appservice mode has no `/sync`, so
this reader lists the joined rooms and reads each one's state (`/state`) and latest timeline (`/messages`), a few
rooms a second so that a pass over 10,000 rooms never loads the homeserver. The state and the answers are parsed
by room_view.py, as in sync mode, so both transports build the same `ObservedTopology`.
"""

import logging
from typing import Any
from urllib.parse import quote

from nio import AsyncClient, Event

from adapters.matrix.appservice.pace import Pace
from adapters.matrix.event_mapping import to_user_message
from adapters.matrix.raw_api import RawApiError, call_json, call_ok
from adapters.matrix.room_view import RoomView, apply_state, note_answers
from domain.model.ids import RoomId
from domain.model.messages import EncryptedMessage, UserMessage
from domain.model.observed import ObservedTopology
from ports.topology_reader import TopologyReader

log = logging.getLogger(__name__)

_ROOMS = "/_matrix/client/v3/rooms"


class AppserviceRoomStateReader(TopologyReader):
    """`refresh` reads every joined room at a bounded pace; `observe` returns what the last refresh read."""

    def __init__(self, client: AsyncClient, timeline_limit: int, rooms_per_s: float) -> None:
        self._client = client
        self._timeline_limit = timeline_limit
        self._rooms_per_s = rooms_per_s
        self._observed: ObservedTopology | None = None

    async def refresh(self) -> None:
        """Reads the joined rooms one by one. A room that cannot be read is left out (logged): reconciliation only
        adds and repairs, so a missing room changes nothing; an unreachable homeserver fails the whole read."""
        answer = await call_ok(self._client, "list the joined rooms", "GET", "/_matrix/client/v3/joined_rooms")
        joined = sorted({r for r in answer.get("joined_rooms", []) if isinstance(r, str)})
        pace = Pace(self._rooms_per_s)
        views: dict[RoomId, RoomView] = {}
        for room_id in joined:
            await pace.wait()
            try:
                views[RoomId(room_id)] = await self._read(room_id)
            except RawApiError as error:
                # 403/404: the bot left (or was removed) since the list was read.
                level = logging.INFO if error.status in (403, 404) else logging.WARNING
                log.log(level, "room_unreadable", extra={"room_id": room_id, "error": str(error)})
        self._observed = ObservedTopology(rooms=tuple(view.observed(room_id) for room_id, view in views.items()))
        log.info("observed", extra={"rooms": len(views), "unreadable": len(joined) - len(views)})

    def forget(self) -> None:
        """Drops the last read: a whole timeline per room is too much to keep between passes."""
        self._observed = None

    async def observe(self) -> ObservedTopology:
        if self._observed is None:
            raise RuntimeError("AppserviceRoomStateReader.observe before refresh")
        return self._observed

    async def _read(self, room_id: str) -> RoomView:
        path = f"{_ROOMS}/{quote(room_id, safe='')}"
        room = RoomView()
        for source in await _list(self._client, f"read the state of {room_id}", f"{path}/state"):
            apply_state(room, room_id, source)
        page = await call_ok(
            self._client,
            f"read the timeline of {room_id}",
            "GET",
            f"{path}/messages?dir=b&limit={self._timeline_limit}",
        )
        chunk = page.get("chunk")
        timeline = [s for s in reversed(chunk) if isinstance(s, dict)] if isinstance(chunk, list) else []
        room.recent = tuple(m for s in timeline if (m := self._message(room_id, s)) is not None)
        note_answers(room, timeline, self._client.user_id)
        return room

    def _message(self, room_id: str, source: dict[str, Any]) -> UserMessage | None:
        event = Event.parse_event(source)
        message = to_user_message(room_id, event, self._client.user_id) if isinstance(event, Event) else None
        # Encrypted messages cannot be read in this mode (no keys); the intake leaves them out, so does catch-up.
        return None if isinstance(message, EncryptedMessage) else message


async def _list(client: AsyncClient, action: str, path: str) -> list[dict[str, Any]]:
    """The events of a JSON array answer (`/state` is one)."""
    status, answer = await call_json(client, "GET", path)
    if status != 200:
        raise RawApiError(action, status, answer if isinstance(answer, dict) else {})
    return [event for event in answer if isinstance(event, dict)] if isinstance(answer, list) else []
