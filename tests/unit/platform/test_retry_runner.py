"""Agent attempts: the first outside tenacity, later ones with back-off, one notice per retry, a clear give-up."""

import pytest

from adapters.platform.retry_runner import TenacityRetryRunner
from ports.platform import PlatformError

QUICK = {"initial_s": 0.001, "maximum_s": 0.002}


class Agent:
    """Fails `failures` times with PlatformError, then answers."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or PlatformError("agent unreachable")
        self.attempts = 0

    async def __call__(self) -> str:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise self.error
        return "answer"


class Notices:
    def __init__(self) -> None:
        self.attempts: list[int] = []

    async def __call__(self, attempt: int) -> None:
        self.attempts.append(attempt)


async def test_an_answer_at_the_first_attempt_needs_no_retry() -> None:
    agent, notices = Agent(failures=0), Notices()
    assert await TenacityRetryRunner(**QUICK).run(agent, notices) == "answer"
    assert agent.attempts == 1 and notices.attempts == []


async def test_failures_are_retried_and_each_retry_is_announced_with_its_attempt_number() -> None:
    agent, notices = Agent(failures=2), Notices()
    assert await TenacityRetryRunner(**QUICK).run(agent, notices) == "answer"
    assert agent.attempts == 3 and notices.attempts == [1, 2]


async def test_it_gives_up_with_the_agents_error_once_the_budget_is_spent() -> None:
    agent, notices = Agent(failures=10**9), Notices()
    with pytest.raises(PlatformError, match="agent unreachable"):
        await TenacityRetryRunner(**QUICK, give_up_after_s=0.05).run(agent, notices)
    assert agent.attempts >= 2 and notices.attempts[0] == 1


async def test_anything_but_a_platform_error_is_a_bug_and_is_not_retried() -> None:
    agent, notices = Agent(failures=1, error=ValueError("bug")), Notices()
    with pytest.raises(ValueError, match="bug"):
        await TenacityRetryRunner(**QUICK).run(agent, notices)
    assert agent.attempts == 1 and notices.attempts == []
