from domain.model.ids import UserId
from domain.services.flood_guard import Admission, FloodGuard

ALICE, BOB = UserId("@alice:x"), UserId("@bob:x")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_one_notice_then_silence() -> None:
    guard = FloodGuard(burst=3, per_second=1.0, clock=Clock())
    decisions = [guard.admit(ALICE) for _ in range(6)]
    assert decisions == [Admission.ALLOW] * 3 + [Admission.REFUSE_WITH_NOTICE] + [Admission.REFUSE_QUIETLY] * 2


def test_people_have_separate_buckets() -> None:
    guard = FloodGuard(burst=1, per_second=0.1, clock=Clock())
    assert guard.admit(ALICE) is Admission.ALLOW
    assert guard.admit(ALICE) is Admission.REFUSE_WITH_NOTICE
    assert guard.admit(BOB) is Admission.ALLOW


def test_the_bucket_refills_and_a_later_flood_gets_a_new_notice() -> None:
    clock = Clock()
    guard = FloodGuard(burst=2, per_second=1.0, clock=clock)
    assert [guard.admit(ALICE) for _ in range(3)][-1] is Admission.REFUSE_WITH_NOTICE
    clock.now = 10.0
    assert [guard.admit(ALICE) for _ in range(3)] == [
        Admission.ALLOW,
        Admission.ALLOW,
        Admission.REFUSE_WITH_NOTICE,
    ]
