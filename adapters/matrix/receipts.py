"""Read receipts through matrix-nio: the person sees the bot has taken their message."""

import logging

import aiohttp
from nio import AsyncClient, RoomReadMarkersResponse

from domain.model.ids import EventId, RoomId
from ports.receipts import ReadReceipts

log = logging.getLogger(__name__)


class NioReadReceipts(ReadReceipts):
    """`POST /rooms/{room}/read_markers` with `m.read` (and `m.fully_read`) on the message: an unthreaded receipt,
    covering it and everything before it in the main timeline and in every thread (nio's receipt call always sends
    a `thread_id`, and Synapse refuses `null`). A lost receipt is cosmetic: logged, never raised."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def mark_read(self, room_id: RoomId, event_id: EventId) -> None:
        try:
            response = await self._client.room_read_markers(room_id, fully_read_event=event_id, read_event=event_id)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("receipt_failed", extra={"room_id": room_id, "error": str(error) or type(error).__name__})
            return
        if not isinstance(response, RoomReadMarkersResponse):
            log.warning("receipt_failed", extra={"room_id": room_id, "error": str(response)})
