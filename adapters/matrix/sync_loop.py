"""The sync loop: record the batch in the inbox, then the token, then hand work to room queues."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

import aiohttp
from nio import AsyncClient, SyncError, SyncResponse

from adapters.matrix.backoff import Backoff
from adapters.matrix.event_mapping import to_invitation, to_room_event
from adapters.matrix.room_queues import KeyedWorkQueues
from domain.model.messages import IncomingText, Invitation, RoomEvent
from ports.topology import ChatNetworkError
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

# A timeline limit well above Synapse's default 10 keeps bursts out of `limited`
# gaps; lazy-loaded members keep full-state syncs small.
SYNC_FILTER: Final[dict[str, Any]] = {
    "room": {"timeline": {"limit": 100}, "state": {"lazy_load_members": True}},
    "presence": {"types": []},
}
LONG_POLL_MS: Final = 30_000
# nio sets no client-side timeout on full-state syncs: bound every sync ourselves.
SYNC_DEADLINE_S: Final = 120.0


class AccessTokenRejected(ChatNetworkError):
    """The homeserver no longer accepts our access token; retrying cannot help."""


class MatrixSyncLoop:
    """Inbox first, token second: a crash at any point re-delivers, and the inbox dedupes."""

    def __init__(
        self,
        client: AsyncClient,
        uow: UnitOfWorkFactory,
        messages: KeyedWorkQueues[RoomEvent],
        accept_invitation: Callable[[Invitation], Awaitable[None]],
    ) -> None:
        self._client = client
        self._uow = uow
        self._messages = messages
        self._invites: KeyedWorkQueues[Invitation] = KeyedWorkQueues(accept_invitation)
        self._invites_seen: set[str] = set()
        self._backoff = Backoff()

    async def first_sync(self) -> None:
        """Full state; the timeline is replayed only when resuming from a stored token."""
        async with self._uow() as uow:
            token = await uow.sync_state.get_token()
        log.info("initial_sync_started", extra={"resuming": token is not None})
        response = await self._sync_until_ok(since=token, full_state=True, timeout_ms=0)
        await self._handle(response, replay_timeline=token is not None)
        log.info("initial_sync_done", extra={"rooms": len(response.rooms.join)})

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            sync = asyncio.ensure_future(self._sync_until_ok(since=None, full_state=False, timeout_ms=LONG_POLL_MS))
            stopped = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({sync, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if sync not in done:
                # A long-poll cut short loses nothing: its token was never stored.
                sync.cancel()
                await asyncio.gather(sync, return_exceptions=True)
                break
            stopped.cancel()
            await self._handle(sync.result(), replay_timeline=True)

    async def shutdown(self, grace_seconds: float) -> None:
        await self._invites.shutdown(grace_seconds)

    async def _sync_until_ok(self, since: str | None, full_state: bool, timeout_ms: int) -> SyncResponse:
        while True:
            try:
                async with asyncio.timeout(SYNC_DEADLINE_S):
                    response = await self._client.sync(
                        timeout=timeout_ms, since=since, full_state=full_state, sync_filter=SYNC_FILTER
                    )
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                await self._wait_after_failure("sync_transport_error", str(error) or type(error).__name__)
                continue
            if isinstance(response, SyncResponse):
                self._backoff.reset()
                return response
            if isinstance(response, SyncError) and response.status_code == "M_UNKNOWN_TOKEN":
                log.error("access_token_rejected", extra={"error": response.message})
                raise AccessTokenRejected("the homeserver rejected the access token (M_UNKNOWN_TOKEN)")
            await self._wait_after_failure("sync_failed", str(response))

    async def _wait_after_failure(self, event: str, error: str) -> None:
        delay = self._backoff.next_delay()
        log.warning(event, extra={"error": error, "retry_in_s": round(delay, 2)})
        await asyncio.sleep(delay)

    async def _handle(self, response: SyncResponse, replay_timeline: bool) -> None:
        own = self._client.user_id
        events: list[RoomEvent] = []
        if replay_timeline:
            for room_id, info in response.rooms.join.items():
                for event in info.timeline.events:
                    mapped = to_room_event(room_id, event, own)
                    if mapped is not None:
                        events.append(mapped)
        new = await self._record(events, response.next_batch)
        for item in new:
            self._messages.submit(item.room_id, item)
        self._submit_invites(response)

    async def _record(self, events: list[RoomEvent], token: str) -> list[RoomEvent]:
        """Messages are kept only when new to the inbox; renames are idempotent and always pass."""
        async with self._uow() as uow:
            new = [e for e in events if not isinstance(e, IncomingText) or await uow.inbox.record(e)]
            await uow.sync_state.set_token(token)
            await uow.commit()
        return new

    def _submit_invites(self, response: SyncResponse) -> None:
        own = self._client.user_id
        for room_id, info in response.rooms.invite.items():
            invitation = to_invitation(room_id, info.invite_state, own)
            # An invite stays in every sync until it is answered: act on it once.
            if invitation is None or room_id in self._invites_seen:
                continue
            self._invites_seen.add(room_id)
            self._invites.submit(invitation.inviter, invitation)
