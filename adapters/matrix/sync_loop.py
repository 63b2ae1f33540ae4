"""The sync loop: record the batch in the inbox, then the token, then hand work to room queues."""

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Final

import aiohttp
from nio import AsyncClient, Event, SyncError, SyncResponse, Timeline
from sqlalchemy.exc import DBAPIError

from adapters.matrix.backfill import UNKNOWN_TOKEN, BackfillFailed, NioTimelineBackfill
from adapters.matrix.backoff import Backoff
from adapters.matrix.errors import MatrixRequestError
from adapters.matrix.event_mapping import to_invitation, to_room_event
from adapters.matrix.key_maintenance import KeyMaintenance
from adapters.matrix.room_queues import KeyedWorkQueues
from adapters.matrix.state_view import NioTopologyView
from adapters.persistence.engine import is_connection_lost
from domain.model.controls import Redaction
from domain.model.messages import Invitation, RoomEvent, RoomRenamed
from ports.topology import ChatNetworkError
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

LONG_POLL_MS: Final = 30_000
# nio sets no client-side timeout on full-state syncs: bound every sync ourselves.
SYNC_DEADLINE_S: Final = 120.0


def sync_filter(timeline_limit: int) -> dict[str, Any]:
    # A timeline limit well above Synapse's default 10 keeps bursts out of `limited` gaps;
    # lazy-loaded members keep full-state syncs small. Typing notices, receipts and room account data
    # are never read: filtered out, they no longer wake the long poll (each typing change by anyone,
    # the bot included, would otherwise cost a sync round trip).
    return {
        "room": {
            "timeline": {"limit": timeline_limit},
            "state": {"lazy_load_members": True},
            "ephemeral": {"types": []},
            "account_data": {"types": []},
        },
        "presence": {"types": []},
    }


def uncached_timeout_ms() -> int:
    """A timeout no earlier request used: Synapse caches /sync answers for minutes, keyed on the timeout among
    other things, so a repeated token-less full-state sync on the same device would get the stale cached answer.
    Full-state syncs return at once whatever the timeout, so the value costs nothing."""
    return random.randint(1, 1_000_000)


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
        view: NioTopologyView,
        timeline_limit: int = 100,
        on_error: Callable[[str], None] | None = None,
        keys: KeyMaintenance | None = None,
    ) -> None:
        self._client = client
        # Key uploads, queries, claims and to-device sends, after each recorded batch (encryption only).
        self._keys = keys
        # Told the kind of every failed sync or back-fill (sync_transport_error, sync_failed, backfill_failed).
        self._on_error = on_error
        self._uow = uow
        self._messages = messages
        self._invites: KeyedWorkQueues[Invitation] = KeyedWorkQueues(accept_invitation)
        self._invites_seen: set[str] = set()
        self._view = view
        self._backfill = NioTimelineBackfill(client)
        self._filter = sync_filter(timeline_limit)
        self._backoff = Backoff()
        # The last token recorded: every sync starts from it (never from nio's own `next_batch`, which
        # nio advances before we have recorded anything), and a limited timeline is back-filled to it.
        self._since: str | None = None
        self._deferred: SyncResponse | None = None

    async def first_sync(self) -> None:
        """Full state; the timeline is replayed only when resuming from a stored token.

        Nothing is handed to the rooms yet: messages wait in the inbox and invites until `run`,
        so that reconciliation has rebuilt the index before anyone is answered.
        """
        async with self._uow() as uow:
            self._since = await uow.sync_state.get_token()
        resuming = self._since is not None
        log.info("initial_sync_started", extra={"resuming": resuming})
        while True:
            response = await self._sync_until_ok(self._since, full_state=True, timeout_ms=uncached_timeout_ms())
            if await self._handled(response, replay_timeline=resuming, stop=None, dispatch=False):
                break
        log.info("initial_sync_done", extra={"rooms": len(response.rooms.join)})
        # Only the invites wait for `run`. The joined rooms, nearly all of a full-state response, are in the
        # view and the inbox already: dropped here, their memory is reused by reconciliation (docs/decisions.md).
        response.rooms.join.clear()
        self._deferred = response

    async def run(self, stop: asyncio.Event) -> None:
        if self._deferred is not None:
            self._submit_invites(self._deferred)
            self._deferred = None
        while not stop.is_set():
            sync = asyncio.ensure_future(self._sync_until_ok(self._since, full_state=False, timeout_ms=LONG_POLL_MS))
            stopped = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({sync, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if sync not in done:
                # A long-poll cut short loses nothing: its token was never stored.
                sync.cancel()
                await asyncio.gather(sync, return_exceptions=True)
                break
            stopped.cancel()
            await self._handled(sync.result(), replay_timeline=True, stop=stop)

    async def observe(self) -> None:
        """One fresh full-state sync folded into the view, recording nothing: no token, no inbox (dry runs)."""
        response = await self._sync_until_ok(None, full_state=True, timeout_ms=uncached_timeout_ms())
        self._view.absorb(response, self._client.user_id)
        log.info("observed", extra={"rooms": len(response.rooms.join)})

    async def shutdown(self, grace_seconds: float) -> None:
        await self._invites.shutdown(grace_seconds)

    async def _sync_until_ok(self, since: str | None, full_state: bool, timeout_ms: int) -> SyncResponse:
        while True:
            try:
                async with asyncio.timeout(SYNC_DEADLINE_S):
                    response = await self._client.sync(
                        timeout=timeout_ms, since=since, full_state=full_state, sync_filter=self._filter
                    )
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                await self._wait_after_failure("sync_transport_error", str(error) or type(error).__name__)
                continue
            if isinstance(response, SyncResponse):
                self._backoff.reset()
                return response
            if isinstance(response, SyncError) and response.status_code == UNKNOWN_TOKEN:
                log.error("access_token_rejected", extra={"error": response.message})
                raise AccessTokenRejected("the homeserver rejected the access token (M_UNKNOWN_TOKEN)")
            await self._wait_after_failure("sync_failed", str(response))

    async def _wait_after_failure(self, event: str, error: str, stop: asyncio.Event | None = None) -> None:
        delay = self._backoff.next_delay()
        log.warning(event, extra={"error": error, "retry_in_s": round(delay, 2)})
        if self._on_error is not None:
            self._on_error(event)
        if stop is None:
            await asyncio.sleep(delay)
            return
        with contextlib.suppress(TimeoutError):  # a stop request ends the wait early
            await asyncio.wait_for(stop.wait(), delay)

    async def _handled(
        self, response: SyncResponse, replay_timeline: bool, stop: asyncio.Event | None, dispatch: bool = True
    ) -> bool:
        """False when the batch could not be completed: nothing was recorded, the same sync is repeated."""
        try:
            await self._handle(response, replay_timeline, dispatch)
        except MatrixRequestError as error:
            if error.status_code == UNKNOWN_TOKEN:
                log.error("access_token_rejected", extra={"error": str(error)})
                raise AccessTokenRejected("the homeserver rejected the access token (M_UNKNOWN_TOKEN)") from error
            raise
        except BackfillFailed as error:
            await self._wait_after_failure("backfill_failed", str(error), stop)
            return False
        except DBAPIError as error:
            if not is_connection_lost(error):
                raise
            # Nothing of the batch was recorded and the token did not move: the same sync is repeated.
            await self._wait_after_failure("database_connection_lost", type(error.orig).__name__, stop)
            return False
        self._backoff.reset()
        return True

    async def _handle(self, response: SyncResponse, replay_timeline: bool, dispatch: bool) -> None:
        own = self._client.user_id
        self._view.absorb(response, own)
        events = await self._timeline_events(response, own) if replay_timeline else []
        new = await self._record(events, response.next_batch)
        self._since = response.next_batch
        if dispatch:
            for item in new:
                self._messages.submit(item.room_id, item)
            self._submit_invites(response)
        if self._keys is not None:
            await self._keys.after_sync(response)

    async def _timeline_events(self, response: SyncResponse, own: str) -> list[RoomEvent]:
        """Each joined room's timeline, with the gap of a `limited` one fetched and put in front of it."""
        since = self._since
        gaps = {
            room_id: start
            for room_id, info in response.rooms.join.items()
            if (start := _gap_start(info.timeline, since))
        }
        filled = await self._backfill.fill(gaps, since) if gaps and since is not None else {}
        events: list[RoomEvent] = []
        for room_id, info in response.rooms.join.items():
            timeline = _unique([*filled.get(room_id, []), *info.timeline.events])
            events.extend(mapped for event in timeline if (mapped := to_room_event(room_id, event, own)) is not None)
        return events

    async def _record(self, events: list[RoomEvent], token: str) -> list[RoomEvent]:
        """Messages, reactions and edits are kept only when new to the inbox; renames and redactions always pass."""
        async with self._uow() as uow:
            new = [e for e in events if isinstance(e, RoomRenamed | Redaction) or await uow.inbox.record(e)]
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


def _gap_start(timeline: Timeline, since: str | None) -> str | None:
    """Where the events a `limited` timeline left out end, or None when there is nothing to fetch.

    Synapse marks a newly joined room's timeline limited even when it holds the room's whole history
    (from `m.room.create`, with `prev_batch` equal to `since`): no request is needed for those.
    """
    if not timeline.limited or not timeline.prev_batch or since is None or timeline.prev_batch == since:
        return None
    if any(getattr(event, "source", {}).get("type") == "m.room.create" for event in timeline.events):
        return None
    return str(timeline.prev_batch)


def _unique(events: list[Event]) -> list[Event]:
    """The same event from /messages and from the sync timeline counts once; the first copy stays."""
    seen: set[str] = set()
    unique: list[Event] = []
    for event in events:
        event_id = getattr(event, "event_id", None)
        if isinstance(event_id, str):
            if event_id in seen:
                continue
            seen.add(event_id)
        unique.append(event)
    return unique
