"""Ordered work per key (a room), keys in parallel, never on the sync loop."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class KeyedWorkQueues(Generic[T]):
    """Runs `handler` on items one at a time per key; a worker lives only while its key has work."""

    def __init__(self, handler: Callable[[T], Awaitable[None]]) -> None:
        self._handler = handler
        self._queues: dict[str, asyncio.Queue[T]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._accepting = True

    def submit(self, key: str, item: T) -> bool:
        """Queues the item; False once shutdown has begun (the item stays pending for the next start)."""
        if not self._accepting:
            return False
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
                item = queue.get_nowait()
                try:
                    await self._handler(item)
                except Exception:
                    # One bad message must not stop its room: it stays undone in the
                    # inbox and is picked up again at the next start.
                    log.exception("work_item_failed", extra={"key": key})
        finally:
            del self._workers[key]
            if queue.empty():
                self._queues.pop(key, None)

    async def shutdown(self, grace_seconds: float) -> None:
        """Stops intake, lets running work finish within the grace period, then cancels the rest."""
        self._accepting = False
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
