"""A steady pace for background reads: at most `per_second` steps a second, never a burst to catch up."""

import asyncio
import time
from collections.abc import Awaitable, Callable


class Pace:
    """`wait` returns when the next step may start; a slow step delays the ones after it, it does not earn credit."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    async def wait(self) -> None:
        now = self._clock()
        if self._next is not None and self._next > now:
            await self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval
