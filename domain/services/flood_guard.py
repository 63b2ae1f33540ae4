"""Per-person rate limiting in front of the agent platform: a flood gets one notice, not one per message."""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from domain.model.ids import UserId


class Admission(StrEnum):
    ALLOW = "allow"
    REFUSE_WITH_NOTICE = "refuse_with_notice"  # the first refusal of a flood
    REFUSE_QUIETLY = "refuse_quietly"  # the rest of it


@dataclass
class _Bucket:
    tokens: float
    updated: float
    notified: bool = False


class FloodGuard:
    """A token bucket per person: `burst` messages at once, refilled at `per_second`."""

    def __init__(self, burst: int, per_second: float, clock: Callable[[], float]) -> None:
        if burst < 1 or per_second <= 0:
            raise ValueError("a flood guard needs burst >= 1 and a positive refill rate")
        self._burst = burst
        self._rate = per_second
        self._clock = clock
        self._buckets: dict[UserId, _Bucket] = {}

    def admit(self, user_id: UserId) -> Admission:
        now = self._clock()
        bucket = self._buckets.setdefault(user_id, _Bucket(tokens=float(self._burst), updated=now))
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            if bucket.tokens >= 1:
                bucket.notified = False  # the flood is over once there is room again
            return Admission.ALLOW
        if bucket.notified:
            return Admission.REFUSE_QUIETLY
        bucket.notified = True
        return Admission.REFUSE_WITH_NOTICE
