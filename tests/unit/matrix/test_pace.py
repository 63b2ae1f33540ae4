"""Pace: steps spaced by 1/rate on a fake clock; a late step is not followed by a burst."""

from adapters.matrix.appservice.pace import Pace


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_steps_are_spaced_by_the_rate_and_a_slow_step_earns_no_burst() -> None:
    time = FakeTime()
    pace = Pace(4, clock=time.clock, sleep=time.sleep)
    await pace.wait()  # the first step starts at once
    await pace.wait()
    assert time.slept == [0.25]
    time.now += 10  # a step that took far longer than its share
    await pace.wait()
    await pace.wait()
    assert time.slept == [0.25, 0.25]
