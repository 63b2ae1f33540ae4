"""Back-fill of `limited` sync timelines: the events a sync left out, fetched with /messages."""

import asyncio
import logging
from typing import Final

import aiohttp
from nio import AsyncClient, Event, MessageDirection, RoomMessagesResponse

from adapters.matrix.errors import MatrixRequestError, checked
from ports.topology import ChatNetworkError

log = logging.getLogger(__name__)

PAGE_SIZE: Final = 100
MAX_PAGES: Final = 50  # 5,000 events per room and gap: the newest are kept, `backfill_truncated` logged
REQUEST_DEADLINE_S: Final = 60.0  # nio puts no overall bound on a request that it retries
ROOMS_AT_ONCE: Final = 4
UNKNOWN_TOKEN: Final = "M_UNKNOWN_TOKEN"  # noqa: S105 - a Matrix error code, not a secret


class BackfillFailed(ChatNetworkError):
    """A gap could not be fetched; the batch must not be recorded, so that the sync is repeated."""


class NioTimelineBackfill:
    """Pages /messages backwards from a timeline's `prev_batch` to the last sync token recorded."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def fill(self, gaps: dict[str, str], until: str) -> dict[str, list[Event]]:
        """Per room (room id → its `prev_batch`), the missing events oldest first.

        A few rooms at a time; any room failing fails the whole batch, once the others have finished.
        A rejected access token is raised as the MatrixRequestError it is, every other failure as
        BackfillFailed.
        """
        gate = asyncio.Semaphore(ROOMS_AT_ONCE)

        async def one(room_id: str, start: str) -> list[Event]:
            async with gate:
                return await self._room(room_id, start, until)

        results = await asyncio.gather(*(one(r, start) for r, start in gaps.items()), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise next((f for f in failures if not isinstance(f, BackfillFailed)), failures[0])
        return {room_id: r for room_id, r in zip(gaps, results, strict=True) if not isinstance(r, BaseException)}

    async def _room(self, room_id: str, start: str, until: str) -> list[Event]:
        newest_first: list[Event] = []
        page_token = start
        try:
            for _ in range(MAX_PAGES):
                async with asyncio.timeout(REQUEST_DEADLINE_S):
                    response = await self._client.room_messages(
                        room_id, start=page_token, end=until, direction=MessageDirection.back, limit=PAGE_SIZE
                    )
                page = checked("room_messages", response, RoomMessagesResponse)
                newest_first.extend(page.chunk)
                # Synapse ends a pagination with an empty chunk; `end` absent or unchanged also means done.
                if not page.chunk or page.end is None or page.end == page_token:
                    break
                page_token = page.end
            else:
                log.warning("backfill_truncated", extra={"room_id": room_id, "count": len(newest_first)})
        except MatrixRequestError as error:
            if error.status_code == UNKNOWN_TOKEN:
                raise
            raise BackfillFailed(f"back-fill of {room_id}: {error}") from error
        except (ChatNetworkError, aiohttp.ClientError, TimeoutError, OSError) as error:
            raise BackfillFailed(f"back-fill of {room_id}: {error or type(error).__name__}") from error
        log.info("backfill_done", extra={"room_id": room_id, "count": len(newest_first)})
        return newest_first[::-1]
