"""BackgroundReconciliation with a fake lease table: one pass per lease taken, none while another replica holds it,
a pass cut short when its lease is lost, and the lease given back as done or as abandoned."""

import asyncio

from adapters.matrix.appservice.background_reconciliation import LEASE_KEY, BackgroundReconciliation


class FakeJobLeases:
    """One key's lease as PostgresPersonLeases keeps it for this replica."""

    def __init__(self, free: bool = True) -> None:
        self.free = free
        self.generation = 0
        self.asked: list[float] = []
        self.released: list[int] = []
        self.abandoned: list[int] = []
        self.lost = False

    async def acquire_idle(self, key: str, idle_s: float) -> int | None:
        assert key == LEASE_KEY
        self.asked.append(idle_s)
        if not self.free:
            return None
        self.generation += 1
        return self.generation

    async def renew(self) -> dict[str, int]:
        return {} if self.lost else {LEASE_KEY: self.generation}

    async def release(self, key: str, generation: int) -> None:
        self.released.append(generation)

    async def abandon(self, key: str, generation: int) -> None:
        self.abandoned.append(generation)


async def wait_until(check: object, what: str) -> None:
    for _ in range(500):
        if callable(check) and check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{what} did not happen")


async def test_a_pass_runs_after_start_under_the_lease_which_is_then_released_as_done() -> None:
    leases, passes = FakeJobLeases(), []

    async def run_pass() -> None:
        passes.append(1)

    job = BackgroundReconciliation(leases, run_pass, interval_s=3600, lease_s=10)
    job.start()
    await wait_until(lambda: leases.released, "the release")
    await job.stop()
    assert passes == [1] and leases.released == [1] and leases.abandoned == []
    assert leases.asked == [0.0]  # after a start it runs whenever no other replica is running one


async def test_nothing_runs_while_another_replica_holds_the_lease_and_a_start_looks_again_soon() -> None:
    leases, passes = FakeJobLeases(free=False), []

    async def run_pass() -> None:
        passes.append(1)

    job = BackgroundReconciliation(leases, run_pass, interval_s=3600, lease_s=10, retry_s=0.01)
    job.start()
    await wait_until(lambda: len(leases.asked) >= 2, "a second look")  # the holder may have died mid-pass
    await asyncio.sleep(0.05)
    await job.stop()
    assert passes == [] and leases.released == [] and leases.abandoned == []
    assert leases.asked == [0.0, 3600 * 0.9]  # the second look skips a pass finished meanwhile; then a period


async def test_later_passes_skip_a_period_another_replica_already_covered() -> None:
    leases, passes = FakeJobLeases(), []

    async def run_pass() -> None:
        passes.append(1)

    job = BackgroundReconciliation(leases, run_pass, interval_s=0.05, lease_s=10)
    job.start()
    await wait_until(lambda: len(leases.asked) >= 3, "three attempts")
    await job.stop()
    assert leases.asked[0] == 0.0 and all(0 < idle <= 0.05 for idle in leases.asked[1:])


async def test_a_failed_pass_abandons_the_lease_so_any_replica_may_run_the_next() -> None:
    leases = FakeJobLeases()

    async def run_pass() -> None:
        raise RuntimeError("homeserver away")

    job = BackgroundReconciliation(leases, run_pass, interval_s=3600, lease_s=10, retry_s=0.01)
    job.start()
    await wait_until(lambda: len(leases.abandoned) >= 2, "two abandoned passes")  # retried soon, not in an hour
    await job.stop()
    assert leases.released == [] and leases.asked[:2] == [0.0, 0.0]


async def test_a_pass_whose_lease_is_lost_is_cut_short() -> None:
    leases, cancelled = FakeJobLeases(), asyncio.Event()

    async def run_pass() -> None:
        leases.lost = True  # another replica took the lease over while this one was stalled
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    job = BackgroundReconciliation(leases, run_pass, interval_s=3600, lease_s=0.03)
    job.start()
    await asyncio.wait_for(cancelled.wait(), 5)
    await wait_until(lambda: leases.abandoned, "the abandoned lease")
    await job.stop()
    assert leases.released == []


async def test_stop_cuts_a_running_pass_short_and_zero_never_starts_one() -> None:
    leases, started = FakeJobLeases(), asyncio.Event()

    async def run_pass() -> None:
        started.set()
        await asyncio.sleep(3600)

    job = BackgroundReconciliation(leases, run_pass, interval_s=3600, lease_s=10)
    job.start()
    await asyncio.wait_for(started.wait(), 5)
    await job.stop()
    assert leases.abandoned == [1]

    disabled = FakeJobLeases()
    never = BackgroundReconciliation(disabled, run_pass, interval_s=0, lease_s=10)
    never.start()
    await asyncio.sleep(0.05)
    await never.stop()
    assert disabled.asked == []
