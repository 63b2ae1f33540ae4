"""Slow answers grow by throttled edits; an unreachable agent is retried, announced once, or given up clearly."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from domain.catalog import Catalog
from domain.model.agent import AgentEvent, AgentRequest, Done, TextDelta
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText
from domain.services.answer_message import AnswerMessage
from domain.services.streaming_reply import StreamingPolicy
from ports.platform import PlatformError
from tests.unit.domain.conftest import World, build_world
from tests.unit.fakes.network import InstantRetry, ScriptedPlatform

ALICE = UserId("@alice:example.org")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class SlowPlatform(ScriptedPlatform):
    """Each delta arrives `step` seconds after the previous one on the test clock."""

    clock: Clock = field(default_factory=Clock)
    step: float = 1.0
    words: list[str] = field(default_factory=list)

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        for word in self.words:
            self.clock.now += self.step
            yield TextDelta(text=word)
        yield Done()


@dataclass
class FlakyPlatform(ScriptedPlatform):
    """Unreachable for the first `failures` attempts, then answers."""

    failures: int = 1
    attempts: int = 0

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        self.attempts += 1
        self.requests.append(request)
        if self.attempts <= self.failures:
            raise PlatformError("connection refused")
        yield TextDelta(text="finally")
        yield Done()


async def answer_with(world: World, platform: ScriptedPlatform, **options: object) -> tuple[IncomingText, RoomId]:
    result = await world.onboard.execute(ALICE, RoomId("!dm:example.org"))
    assert result.first_room is not None
    world.sender.sent.clear()
    answer = AnswerMessage(world.uow, platform, world.sender, Catalog("en"), **options)  # type: ignore[arg-type]
    message = IncomingText(event_id=EventId("$q"), room_id=result.first_room.room_id, sender=ALICE, body="question")
    async with world.uow() as uow:
        await uow.inbox.record(message)
        await uow.commit()
    await answer.execute(message, result.first_room)
    return message, result.first_room.room_id


async def test_a_quick_answer_is_one_event_without_edits() -> None:
    world = build_world()
    await answer_with(world, SlowPlatform(words=["a ", "b"], step=0.1), clock=SlowPlatform().clock)
    assert [m.text for m in world.sender.sent] == ["a b"] and world.sender.edits == []


async def test_a_slow_answer_is_shown_early_then_edited_to_the_full_text() -> None:
    world = build_world()
    platform = SlowPlatform(words=[f"w{i} " for i in range(10)], step=1.0)
    policy = StreamingPolicy(show_after_s=1.5, edit_interval_s=2.0, max_edits=3)
    await answer_with(world, platform, clock=platform.clock, streaming=policy)

    (reply,) = world.sender.sent
    assert reply.text == "w0 w1 w2 "  # shown once the answer had been streaming for 2 s (from its first text)
    assert 1 <= len(world.sender.edits) <= 3 + 1  # throttled edits, plus the final one
    assert world.sender.shown(EventId("$sent1")) == "".join(f"w{i} " for i in range(10))


async def test_edits_are_capped() -> None:
    world = build_world()
    platform = SlowPlatform(words=[f"w{i} " for i in range(50)], step=5.0)
    policy = StreamingPolicy(show_after_s=0.0, edit_interval_s=0.0, max_edits=4)
    await answer_with(world, platform, clock=platform.clock, streaming=policy)
    assert len(world.sender.edits) == 4 + 1


async def test_an_unreachable_agent_is_announced_once_and_answered_when_back() -> None:
    world = build_world()
    platform = FlakyPlatform(failures=2)
    message, room_id = await answer_with(world, platform, retry=InstantRetry(attempts=5))

    texts = world.sender.texts_in(room_id)
    assert texts[-1] == "finally" and len([t for t in texts if "not reachable" in t]) == 1
    assert platform.attempts == 3
    assert {r.request_id for r in platform.requests} == {message.event_id}
    async with world.uow() as uow:
        assert await uow.inbox.is_done(message.event_id)


async def test_giving_up_says_so_once_and_nothing_else_is_posted() -> None:
    world = build_world()
    _, room_id = await answer_with(world, FlakyPlatform(failures=10), retry=InstantRetry(attempts=3))
    texts = world.sender.texts_in(room_id)
    assert len(texts) == 2 and "not reachable" in texts[0] and "gave up" in texts[1]


async def test_a_retry_after_a_partly_shown_answer_edits_the_same_reply() -> None:
    world = build_world()

    @dataclass
    class DropsOnce(ScriptedPlatform):
        clock: Clock = field(default_factory=Clock)
        calls: int = 0

        async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
            self.calls += 1
            yield TextDelta(text="partial ")
            self.clock.now += 5
            yield TextDelta(text="more ")  # streaming for 5 s: shown now
            if self.calls == 1:
                raise PlatformError("stream dropped")
            yield TextDelta(text="and complete")
            yield Done()

    platform = DropsOnce()
    await answer_with(
        world, platform, retry=InstantRetry(), clock=platform.clock, streaming=StreamingPolicy(show_after_s=1)
    )
    answers = [m for m in world.sender.sent if not m.notice]
    assert len(answers) == 1, "a retry must not post a second answer"
    assert answers[0].text == "partial more "
    assert world.sender.shown(EventId("$sent1")) == "partial more and complete"


async def test_time_waiting_for_an_unreachable_agent_does_not_count_as_streaming() -> None:
    world = build_world()

    @dataclass
    class LateButQuick(ScriptedPlatform):
        clock: Clock = field(default_factory=Clock)
        calls: int = 0

        async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
            self.calls += 1
            if self.calls == 1:
                self.clock.now += 60  # a minute of back-off before the agent answers
                raise PlatformError("connection refused")
            yield TextDelta(text="quick ")
            yield TextDelta(text="answer")
            yield Done()

    platform = LateButQuick()
    await answer_with(world, platform, retry=InstantRetry(), clock=platform.clock)
    answers = [m.text for m in world.sender.sent if not m.notice]
    assert answers == ["quick answer"] and world.sender.edits == []


async def test_an_agent_that_thinks_long_then_answers_at_once_gives_one_event() -> None:
    world = build_world()

    @dataclass
    class Thinker(ScriptedPlatform):
        clock: Clock = field(default_factory=Clock)

        async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
            self.clock.now += 20  # thinking
            for word in ("all ", "at ", "once"):
                yield TextDelta(text=word)
            yield Done()

    platform = Thinker()
    await answer_with(world, platform, clock=platform.clock)
    assert [m.text for m in world.sender.sent] == ["all at once"] and world.sender.edits == []
