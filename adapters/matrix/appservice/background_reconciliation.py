"""Reconciliation and the timeline catch-up as background work in appservice mode: one replica at a time, under a
lease, once after start-up and then once per period between all replicas.

A pass is never a start-up step: `/ready` does not wait for it, however many rooms there are. The pass itself (read
the rooms at a bounded pace, reconcile, record what the timelines owe, hand it to the lease dispatch) is given by
the composition root; this module decides when, and on which replica, it runs.
"""

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

log = logging.getLogger(__name__)

# The job's lease key: never a person's, since Matrix user ids start with "@".
LEASE_KEY: Final = "!reconciliation"
# After a failed pass (homeserver or database away), this replica tries again this much sooner than a period.
RETRY_S: Final = 300.0
# Timers of different replicas and the database's clock differ a little: a pass finished "almost" a period ago
# counts as a period ago, or the replica whose own pass set that time would skip its turn.
_PERIOD_SLACK: Final = 0.9


class JobLeases(Protocol):
    """What a job needs of the lease table (PostgresPersonLeases): take, keep, and give back one key."""

    async def acquire_idle(self, key: str, idle_s: float) -> int | None: ...

    async def renew(self) -> dict[str, int]: ...

    async def release(self, key: str, generation: int) -> None: ...

    async def abandon(self, key: str, generation: int) -> None: ...


class _Outcome(enum.Enum):
    DONE = "done"
    ELSEWHERE = "elsewhere"  # another replica runs it, or ran it within the period
    FAILED = "failed"


class LeaseLostError(Exception):
    """The job's lease lapsed or was taken while the pass ran: another replica may be running one now."""


class BackgroundReconciliation:
    """Runs `run_pass` after `start` and then every `interval_s` (0: never), on the replica that takes the lease."""

    def __init__(
        self,
        leases: JobLeases,
        run_pass: Callable[[], Awaitable[None]],
        interval_s: float,
        lease_s: float,
        retry_s: float = RETRY_S,
    ) -> None:
        self._leases = leases
        self._run_pass = run_pass
        self._interval_s = interval_s
        self._lease_s = lease_s
        self._retry_s = min(retry_s, interval_s)  # a retry never waits longer than a period
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._interval_s == 0:
            log.info("reconciliation_disabled", extra={"reason": "SURFACES_RECONCILE_INTERVAL_S=0"})
            return
        self._task = asyncio.create_task(self._loop(), name="background-reconciliation")

    async def stop(self) -> None:
        """Cuts a running pass short: what it wrote is committed per step, and the next pass redoes the rest."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        idle_s = 0.0  # after a start: run unless another replica is running a pass right now
        while not self._stopping.is_set():
            outcome = await self._attempt(idle_s)
            # Held at a start: the holder may have died mid-pass (its lease lapses); look again soon, and run unless
            # it finished meanwhile.
            soon = outcome is _Outcome.FAILED or (outcome is _Outcome.ELSEWHERE and idle_s == 0)
            idle_s = 0.0 if outcome is _Outcome.FAILED else self._interval_s * _PERIOD_SLACK
            delay = self._retry_s if soon else self._interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _attempt(self, idle_s: float) -> _Outcome:
        try:
            generation = await self._leases.acquire_idle(LEASE_KEY, idle_s)
        except Exception as error:  # the database away: try again later
            log.warning("reconciliation_failed", extra={"error": str(error) or type(error).__name__})
            return _Outcome.FAILED
        if generation is None:
            log.info("reconciliation_elsewhere", extra={"reason": "another replica runs it or ran it lately"})
            return _Outcome.ELSEWHERE
        done = False
        try:
            await self._run_holding(generation)
            done = True
        except Exception as error:
            log.warning("reconciliation_failed", extra={"error": str(error) or type(error).__name__})
        finally:
            with contextlib.suppress(Exception):
                # Done: free, but not to be run again for a period. Not done: free for whoever looks next.
                release = self._leases.release if done else self._leases.abandon
                await release(LEASE_KEY, generation)
        return _Outcome.DONE if done else _Outcome.FAILED

    async def _run_holding(self, generation: int) -> None:
        """The pass, with the lease renewed every third of its period; the pass is cut short if the lease is lost."""
        work = asyncio.ensure_future(self._run_pass())
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=self._lease_s / 3)
                if done:
                    work.result()
                    return
                held = await self._leases.renew()
                if held.get(LEASE_KEY) != generation:
                    raise LeaseLostError(f"the {LEASE_KEY} lease (generation {generation}) was lost")
        finally:
            if not work.done():
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
