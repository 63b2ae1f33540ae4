"""Read receipts through matrix-nio: the person sees the bot has taken their message."""

import logging
from urllib.parse import quote

from nio import AsyncClient

from adapters.matrix.raw_api import call
from domain.model.controls import QuestionEdited, Reaction, Redaction
from domain.model.ids import EventId, RoomId
from domain.model.messages import RoomEvent, RoomRenamed
from ports.receipts import ReadReceipts
from ports.topology import ChatNetworkError

log = logging.getLogger(__name__)

# What the room queues mark read as they take it (domain/services/handle_room_event.py); the rest is not.
_NOT_MARKED = (RoomRenamed, Redaction, Reaction, QuestionEdited)


class NioReadReceipts(ReadReceipts):
    """`POST /rooms/{room}/receipt/m.read/{event}` with an empty body: an unthreaded public receipt, covering the
    message and everything before it in the main timeline and in every thread. nio's own receipt call always sends
    a `thread_id` (Synapse refuses `null`), and its read-markers call always moves `m.fully_read` too: the bot's
    private "read up to here" line, which no one sees, and which cost the homeserver an account-data write and a
    wake-up of the bot's own sync on every message. A lost receipt is cosmetic: logged, never raised."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def mark_read(self, room_id: RoomId, event_id: EventId) -> None:
        path = f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/receipt/m.read/{quote(event_id, safe='')}"
        try:
            status, answer = await call(self._client, "POST", path, {})
        except ChatNetworkError as error:
            log.warning("receipt_failed", extra={"room_id": room_id, "error": str(error)})
            return
        if status != 200:
            log.warning("receipt_failed", extra={"room_id": room_id, "error": f"{status} {answer.get('errcode', '')}"})


class LookAheadReceipts(ReadReceipts):
    """Marks read the newest message already waiting in the room's queue, not only the one taken.

    A receipt covers its event and everything before it, so one receipt on the newest waiting message tells the
    person all of them arrived, and the messages it covered need none when their turn comes. Twenty messages sent
    at once are then one receipt instead of twenty: in the 1,000-message burst receipts were half of the bot's
    requests, each one a write and a stream fan-out in the homeserver. A message alone in its room is still marked
    read the moment it is taken.

    `arrived` sees each event as it is handed to its room's queue (in the queue's order), `mark_read` each message
    as it is taken."""

    def __init__(self, inner: ReadReceipts) -> None:
        self._inner = inner
        # Per room, messages queued since the room's last receipt, in queue order (a dict keeps insertion order).
        self._waiting: dict[RoomId, dict[EventId, None]] = {}
        # Per room, messages a receipt already covered that have not been taken yet.
        self._covered: dict[RoomId, set[EventId]] = {}

    def arrived(self, event: RoomEvent) -> None:
        if not isinstance(event, _NOT_MARKED):
            self._waiting.setdefault(event.room_id, {})[event.event_id] = None

    async def mark_read(self, room_id: RoomId, event_id: EventId) -> None:
        covered = self._covered.get(room_id)
        if covered is not None and event_id in covered:
            covered.discard(event_id)
            if not covered:
                del self._covered[room_id]
            return
        waiting = self._waiting.pop(room_id, {})
        newest = next(reversed(waiting), event_id)
        ahead = waiting.keys() - {event_id}
        if ahead:
            self._covered.setdefault(room_id, set()).update(ahead)
        await self._inner.mark_read(room_id, newest)
