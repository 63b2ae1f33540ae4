"""Several replicas, one answerer per person: inbox messages reach this replica's room queues only under a lease.

Any replica takes a transaction in (the load balancer picks one); the messages wait in the shared inbox. The
replica holding the sender's lease reads them from there in inbox order ("pumps" the person), so a person's
messages are answered by one replica at a time and in order, whichever replica received them. A replica that
cannot take the lease (another one holds it) wakes the holder with a PostgreSQL notification; a sweep every
`sweep_s` catches what a notification missed and takes over people whose holder died (its lease expired).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Final

from adapters.matrix.room_queues import KeyedWorkQueues, is_transient
from adapters.persistence.fenced_inbox import LeaseLost, Ticket, WorkTickets
from adapters.persistence.leases import PostgresPersonLeases
from domain.model.controls import Redaction
from domain.model.ids import EventId
from domain.model.messages import Invitation, RoomEvent
from ports.inbox import InboxItem

log = logging.getLogger(__name__)

# People read per sweep: a sweep after a long outage takes the backlog over several rounds, not in one query.
SWEEP_LIMIT: Final = 200


class LeasedDispatch:
    """Hands each person's pending messages to the room queues while this replica holds that person's lease."""

    def __init__(
        self,
        leases: PostgresPersonLeases,
        tickets: WorkTickets,
        handler: Callable[[RoomEvent], Awaitable[None]],
        accept: Callable[[Invitation], Awaitable[None]],
        preempt: Callable[[RoomEvent], None] | None,
        lease_s: float,
        sweep_s: float = 1.0,
    ) -> None:
        self._leases = leases
        self._tickets = tickets
        self._handler = handler
        self._accept_invitation = accept
        self._queues: KeyedWorkQueues[RoomEvent] = KeyedWorkQueues(self._run, preempt=preempt)
        # Invitations by inviter: accepting one onboards its person, so it too runs under the person's lease.
        self._invites: KeyedWorkQueues[Invitation] = KeyedWorkQueues(self._accept)
        self._lease_s = lease_s
        self._sweep_s = sweep_s
        self._held: dict[str, int] = {}  # person → generation this replica holds
        # Handed to the queues, not finished: message event ids ($…) and invitation room ids (!…).
        self._queued: dict[str, set[str]] = {}
        # person → message or invitation → when it finished (a count): a read begun before that may still show
        # it waiting, and must not hand it out again.
        self._finished: dict[str, dict[str, int]] = {}
        self._clock = 0
        self._idle_since: dict[str, float] = {}
        self._failed: set[str] = set()  # refused or a bug: retried at the next start, not every sweep
        self._pumping: dict[str, bool] = {}  # person → another pump was asked for meanwhile
        self._tasks: set[asyncio.Task[object]] = set()
        self._renewed_at = time.monotonic()
        self._stopping = asyncio.Event()

    @property
    def busy(self) -> int:
        return self._queues.busy

    @property
    def held(self) -> int:
        return len(self._held)

    def recorded(self, people: Iterable[str]) -> None:
        """New messages or invitations of these people are committed (this replica took them in)."""
        for person in set(people):
            self._spawn(self._pump_or_notify(person))

    def nudged(self, people: Iterable[str]) -> None:
        """Another replica took messages of these people in (a PostgreSQL notification)."""
        for person in set(people):
            self._spawn(self._pump(person))

    def run_here(self, event: RoomEvent) -> None:
        """Events the inbox does not keep (renames, redactions) are handled by the replica that received them.
        A redaction may stop an answer another replica is giving: that replica is handed it too."""
        self._queues.submit(event.room_id, event)
        if isinstance(event, Redaction) and event.sender not in self._held:
            self._spawn(self._leases.notify_redaction(event))

    def redacted(self, redaction: Redaction) -> None:
        """A redaction another replica received (a notification): a stop if this replica answers its sender."""
        if redaction.sender in self._held:
            self._queues.submit(redaction.room_id, redaction)

    async def run(self) -> None:
        """Sweeps until `shutdown`: renews leases, takes over orphaned people, lets idle people go."""
        while not self._stopping.is_set():
            try:
                await self.sweep()
            except Exception as error:  # the database away: leases lapse, the fence keeps answers single
                log.warning("lease_sweep_failed", extra={"error": str(error) or type(error).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._sweep_s)

    async def sweep(self) -> None:
        if time.monotonic() - self._renewed_at >= self._lease_s / 3:
            await self._renew()
        for person in await self._leases.claimable(SWEEP_LIMIT):
            if not self._queued.get(person):
                await self._pump(person)
        await self._release_idle()

    async def shutdown(self, grace_seconds: float) -> None:
        """Finishes or hands back the running work, then releases every lease so another replica takes over now."""
        self._stopping.set()
        await asyncio.gather(self._queues.shutdown(grace_seconds), self._invites.shutdown(grace_seconds))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for person, generation in list(self._held.items()):
            with contextlib.suppress(Exception):
                await self._leases.release(person, generation)
        log.info("leases_released", extra={"people": len(self._held)})
        self._held.clear()

    def _spawn(self, work: Awaitable[object]) -> None:
        if self._stopping.is_set():
            return
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pump_or_notify(self, person: str) -> None:
        if not await self._pump(person):
            await self._leases.notify([person])

    async def _pump(self, person: str) -> bool:
        """True when this replica holds the person; their pending messages are then in its queues, in order."""
        if person in self._pumping:
            self._pumping[person] = True  # the running pump reads once more: a commit may have come meanwhile
            return True
        self._pumping[person] = False
        try:
            while True:
                holds = await self._pump_once(person)
                if not holds or not self._pumping[person]:
                    return holds
                self._pumping[person] = False
        except Exception as error:
            log.warning("lease_pump_failed", extra={"person": person, "error": str(error) or type(error).__name__})
            return True  # the sweep tries again; no one else need be woken
        finally:
            del self._pumping[person]

    async def _pump_once(self, person: str) -> bool:
        generation = self._held.get(person)
        if generation is None:
            generation = await self._leases.acquire(person)
            if generation is None:
                return False
            self._held[person] = generation
            log.info("lease_taken", extra={"person": person, "generation": generation})
        read_from = self._tick()
        invitations, pending = await self._leases.waiting_of(person, self._known(person))
        for invitation in invitations:
            if self._held.get(person) == generation and self._is_new(person, invitation.room_id, read_from):
                self._queued.setdefault(person, set()).add(invitation.room_id)
                self._invites.submit(person, invitation)
        for item in pending:
            if self._held.get(person) != generation:
                break  # lost while reading: the new holder hands these out
            if self._is_new(person, item.event_id, read_from):
                self._hand_out(person, generation, item)
        finished = self._finished.get(person, {})
        # Finished before this read began: the read saw them done, so later reads will too.
        self._finished[person] = {e: at for e, at in finished.items() if at >= read_from}
        self._idle_since.pop(person, None)
        self._settle(person)
        return True

    def _known(self, person: str) -> set[str]:
        """Handed out or finished here already: not read again (the rest of `_is_new`'s test)."""
        return {*self._queued.get(person, ()), *self._finished.get(person, {})}

    def _is_new(self, person: str, key: str, read_from: int) -> bool:
        if key in self._queued.get(person, ()) or key in self._failed:
            return False
        return self._finished.get(person, {}).get(key, -1) < read_from

    def _hand_out(self, person: str, generation: int, item: InboxItem) -> None:
        self._tickets.issue(item.event_id, Ticket(person=person, generation=generation))
        self._queued.setdefault(person, set()).add(item.event_id)
        self._queues.submit(item.room_id, item)

    async def _accept(self, invitation: Invitation) -> None:
        """The invite queue's handler: accepted (or refused) under the inviter's lease, then no longer kept."""
        person = invitation.inviter
        if person not in self._held:
            self._finish(person, invitation.room_id)  # the new holder reads it from the table
            return
        try:
            await self._accept_invitation(invitation)
        except Exception as error:
            if is_transient(error):
                raise
            self._failed.add(invitation.room_id)  # kept: tried again after the next start
            self._finish(person, invitation.room_id)
            raise
        await self._leases.invitation_done(invitation)
        self._finish(person, invitation.room_id)

    async def _run(self, event: RoomEvent) -> None:
        """The room queues' handler: a handed-out message runs only while its lease is still this replica's."""
        ticket = self._tickets.get(event.event_id)
        if ticket is None:
            await self._handler(event)  # received here and not kept in the inbox: a rename, a redaction
            return
        if self._held.get(ticket.person) != ticket.generation:
            log.info("lease_moved_item_left", extra={"person": ticket.person, "event_id": event.event_id})
            self._finish(ticket.person, event.event_id)
            return
        try:
            await self._handler(event)
        except LeaseLost as error:
            log.warning("lease_lost_while_answering", extra={"event_id": event.event_id, "error": str(error)})
        except Exception as error:
            if is_transient(error):
                raise  # the room queue retries it with back-off, under the same ticket
            self._failed.add(event.event_id)
            self._finish(ticket.person, event.event_id)
            raise
        self._finish(ticket.person, event.event_id)

    def _finish(self, person: str, key: str) -> None:
        self._tickets.withdraw(EventId(key))
        self._finished.setdefault(person, {})[key] = self._tick()
        queued = self._queued.get(person)
        if queued is not None:
            queued.discard(key)
        self._settle(person)

    def _settle(self, person: str) -> None:
        if not self._queued.get(person):
            self._queued.pop(person, None)
            self._idle_since.setdefault(person, time.monotonic())

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    async def _renew(self) -> None:
        still = await self._leases.renew()
        self._renewed_at = time.monotonic()
        for person, generation in list(self._held.items()):
            if still.get(person) != generation:
                self._lose(person)

    def _lose(self, person: str) -> None:
        # Its queued messages are skipped as they come up (`_run`); the new holder hands them out again.
        generation = self._held.pop(person, None)
        self._finished.pop(person, None)  # finished under the lost lease need not mean done: read them again
        log.warning("lease_lost", extra={"person": person, "generation": generation})

    async def _release_idle(self) -> None:
        # A person quiet for a whole lease period is let go: people spread over the replicas again.
        now = time.monotonic()
        for person, since in list(self._idle_since.items()):
            if now - since < self._lease_s or self._queued.get(person) or person in self._pumping:
                continue
            self._idle_since.pop(person)
            self._finished.pop(person, None)
            generation = self._held.pop(person, None)
            if generation is not None:
                await self._leases.release(person, generation)
