"""Ordered work per key (a room), keys in parallel, never on the sync loop."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Final, Generic, TypeVar

import aiohttp

from adapters.matrix.backoff import Backoff
from adapters.matrix.errors import MatrixRequestError
from adapters.persistence.engine import is_connection_lost

log = logging.getLogger(__name__)

T = TypeVar("T")

# The homeserver could not be reached (refused, reset, timed out; nio raises these once its own few quick
# retries are spent), or a reverse proxy in front of it answered 502/503/504 (MatrixRequestError,
# `homeserver_unavailable`): the item is tried again with back-off, as the sync loop does, instead of waiting in the
# inbox for the next start. Handlers are idempotent (inbox done-marks, transaction ids), so a retry repeats
# nothing the person sees. The same goes for a database connection that broke under the work (its transaction
# was not committed). Any other failure is a refusal or a bug and is not retried.
UNREACHABLE: Final = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, ConnectionError, TimeoutError)


class KeyedWorkQueues(Generic[T]):
    """Runs `handler` on items one at a time per key; a worker lives only while its key has work."""

    def __init__(
        self,
        handler: Callable[[T], Awaitable[None]],
        backoff: Callable[[], Backoff] = Backoff,
        preempt: Callable[[T], None] | None = None,
    ) -> None:
        self._handler = handler
        # Sees each item as it is submitted, ahead of its key's order: a stop must reach the running item.
        self._preempt = preempt
        self._backoff = backoff
        self._queues: dict[str, asyncio.Queue[T]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._accepting = True
        self._stopping = asyncio.Event()

    def submit(self, key: str, item: T) -> bool:
        """Queues the item; False once shutdown has begun (the item stays pending for the next start)."""
        if not self._accepting:
            return False
        if self._preempt is not None:
            self._preempt(item)
        queue = self._queues.setdefault(key, asyncio.Queue())
        queue.put_nowait(item)
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._work(key, queue), name=f"room-worker:{key}")
        return True

    @property
    def busy(self) -> int:
        return len(self._workers)

    async def _work(self, key: str, queue: asyncio.Queue[T]) -> None:
        try:
            while not queue.empty():
                await self._handle(key, queue.get_nowait())
        finally:
            del self._workers[key]
            if queue.empty():
                self._queues.pop(key, None)

    async def _handle(self, key: str, item: T) -> None:
        backoff = self._backoff()
        while True:
            try:
                await self._handler(item)
                return
            except Exception as error:
                if not is_transient(error):
                    # A bug or a refusal: one bad message must not stop its room. It stays undone in
                    # the inbox and is picked up again at the next start.
                    log.exception("work_item_failed", extra={"key": key})
                    return
                reason = str(error) or type(error).__name__
                if not self._stopping.is_set():
                    delay = backoff.next_delay()
                    log.warning(
                        "work_item_retrying", extra={"key": key, "error": reason, "retry_in_s": round(delay, 2)}
                    )
                    with contextlib.suppress(TimeoutError):  # shutdown ends the wait early
                        await asyncio.wait_for(self._stopping.wait(), delay)
                if self._stopping.is_set():
                    # Still undone in the inbox: answered after the next start.
                    log.warning("work_item_deferred", extra={"key": key, "error": reason})
                    return

    async def shutdown(self, grace_seconds: float) -> None:
        """Stops intake, lets running work finish within the grace period, then cancels the rest."""
        self._accepting = False
        self._stopping.set()
        for queue in self._queues.values():
            while not queue.empty():
                queue.get_nowait()  # not started: handed back, still pending in the inbox
        workers = list(self._workers.values())
        if not workers:
            return
        _, pending = await asyncio.wait(workers, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


class EachOf(Generic[T]):
    """Several callbacks as one `preempt`: each sees every submitted item, in the order given."""

    def __init__(self, *callbacks: Callable[[T], None]) -> None:
        self._callbacks = callbacks

    def __call__(self, item: T) -> None:
        for callback in self._callbacks:
            callback(item)


def is_transient(error: Exception) -> bool:
    """Worth retrying: the homeserver unreachable or a proxy in front of it unavailable, or the database
    connection lost."""
    if isinstance(error, MatrixRequestError):
        return error.homeserver_unavailable
    return isinstance(error, UNREACHABLE) or is_connection_lost(error)
