from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class RetryRunner(Protocol):
    """Runs `attempt` again with back-off while it raises PlatformError, calling `on_retry(n)` before each
    wait; after a bounded time it gives up by raising the last PlatformError."""

    async def run(self, attempt: Callable[[], Awaitable[T]], on_retry: Callable[[int], Awaitable[None]]) -> T: ...
