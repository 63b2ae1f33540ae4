"""Back-off for agent requests on tenacity: exponential with jitter, bounded in total time."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

from ports.platform import PlatformError
from ports.retry import RetryRunner

T = TypeVar("T")


class TenacityRetryRunner(RetryRunner):
    """Retries only PlatformError (the agent unreachable or failing transiently); anything else is a bug."""

    def __init__(self, initial_s: float = 1.0, maximum_s: float = 30.0, give_up_after_s: float = 300.0) -> None:
        self._wait = wait_exponential_jitter(multiplier=initial_s, max=maximum_s)
        self._stop = stop_after_delay(give_up_after_s)

    async def run(self, attempt: Callable[[], Awaitable[T]], on_retry: Callable[[int], Awaitable[None]]) -> T:
        # The first attempt runs outside tenacity: nearly every answer needs only one, and tenacity's
        # bookkeeping per call cost as much as a database transaction (py-spy, `make bench`).
        try:
            return await attempt()
        except PlatformError as error:
            first_failure = error
        return await self._retry(attempt, on_retry, first_failure)

    async def _retry(
        self, attempt: Callable[[], Awaitable[T]], on_retry: Callable[[int], Awaitable[None]], failure: PlatformError
    ) -> T:
        """Tenacity from attempt 1, which is the failure already seen: back-off, notices and give-up as usual."""
        replayed = False

        async def again() -> T:
            nonlocal replayed
            if not replayed:
                replayed = True
                raise failure
            return await attempt()

        async def before_sleep(state: RetryCallState) -> None:
            await on_retry(state.attempt_number)

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(PlatformError),
            wait=self._wait,
            stop=self._stop,
            before_sleep=before_sleep,
            reraise=True,
        )
        async for trial in retrying:
            with trial:
                return await again()
        raise AssertionError("unreachable: tenacity either returns, retries or re-raises")
