"""Stop: `!stop` or redacting the question cuts the running answer short; the partial answer stays, marked."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from domain.model.agent import AgentEvent, AgentRequest, Done, TextDelta
from domain.model.controls import QuestionEdited, Redaction
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText
from domain.model.room import ChatRoom
from domain.services.stop_answer import PreemptAnswers
from tests.unit.domain.conftest import World, build_world
from tests.unit.domain.test_handle_message import chat_of, record
from tests.unit.fakes.network import ScriptedPlatform

ALICE = UserId("@alice:example.org")
MALLORY = UserId("@mallory:example.org")


@dataclass
class StallingPlatform(ScriptedPlatform):
    """Streams `words`, then waits until released (never, unless a test says so); records whether it was closed."""

    words: list[str] = field(default_factory=lambda: ["partial ", "answer"])
    release: asyncio.Event = field(default_factory=asyncio.Event)
    streamed: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        self.requests.append(request)
        try:
            for word in self.words:
                yield TextDelta(text=word)
            self.streamed.set()
            await self.release.wait()
            yield Done()
        finally:
            self.closed = not self.release.is_set()


def text(room: ChatRoom, body: str, n: int, sender: UserId = ALICE) -> IncomingText:
    return IncomingText(event_id=EventId(f"$m{n}"), room_id=room.room_id, sender=sender, body=body)


async def started(world: World, platform: StallingPlatform) -> tuple[ChatRoom, IncomingText, asyncio.Task[None]]:
    room = await chat_of(world)
    question = text(room, "tell me a long story", 1)
    await record(world, question)
    task = asyncio.create_task(world.handle.execute(question))
    await asyncio.wait_for(platform.streamed.wait(), 5)
    return room, question, task


async def test_stop_cuts_the_running_answer_short_and_keeps_the_partial_text_marked() -> None:
    platform = StallingPlatform()
    world = build_world(platform=platform)
    room, question, task = await started(world, platform)
    stop = text(room, "!stop", 2)
    await record(world, stop)

    PreemptAnswers(world.in_flight)(stop)
    await asyncio.wait_for(task, 5)
    await world.handle.execute(stop)

    assert platform.closed  # the agent's stream was closed: over http, that is the cancel
    (answer,) = world.sender.sent  # the stop itself needs no reply: the answer shows it
    assert world.sender.shown(EventId("$sent1")) == "partial answer\n\n_(stopped)_"
    assert answer.reply_to == question.event_id
    async with world.uow() as uow:
        assert await uow.inbox.is_done(question.event_id) and await uow.inbox.is_done(stop.event_id)


async def test_redacting_the_question_stops_its_answer() -> None:
    platform = StallingPlatform()
    world = build_world(platform=platform)
    room, question, task = await started(world, platform)

    redaction = Redaction(event_id=EventId("$x"), room_id=room.room_id, sender=ALICE, redacts=question.event_id)
    PreemptAnswers(world.in_flight)(redaction)
    await asyncio.wait_for(task, 5)
    await world.events.execute(redaction)

    assert platform.closed
    assert world.sender.shown(EventId("$sent1")) == "partial answer\n\n_(stopped)_"


async def test_a_strangers_stop_and_a_redaction_of_another_event_stop_nothing() -> None:
    platform = StallingPlatform()
    world = build_world(platform=platform)
    room, _, task = await started(world, platform)

    preempt = PreemptAnswers(world.in_flight)
    preempt(text(room, "!stop", 2, sender=MALLORY))
    preempt(Redaction(event_id=EventId("$x"), room_id=room.room_id, sender=ALICE, redacts=EventId("$older")))
    preempt(IncomingText(event_id=EventId("$m4"), room_id=RoomId("!elsewhere:example.org"), sender=ALICE, body="!stop"))
    await asyncio.sleep(0.05)
    assert not task.done()

    platform.release.set()
    await asyncio.wait_for(task, 5)
    assert world.sender.shown(EventId("$sent1")) == "partial answer"


async def test_stop_with_nothing_running_gets_a_short_notice(world: World) -> None:
    room = await chat_of(world)
    stop = text(room, "!stop", 1)
    await record(world, stop)
    PreemptAnswers(world.in_flight)(stop)

    await world.handle.execute(stop)

    (notice,) = world.sender.sent
    assert notice.text == "There is no answer being written to stop." and notice.reply_to == stop.event_id


async def test_the_next_question_still_goes_to_the_agent_after_a_stop() -> None:
    platform = StallingPlatform()
    world = build_world(platform=platform)
    room, _, task = await started(world, platform)
    PreemptAnswers(world.in_flight)(text(room, "!stop", 2))
    await asyncio.wait_for(task, 5)

    platform.words, platform.streamed = ["second"], asyncio.Event()
    platform.release.set()
    follow_up = text(room, "and now?", 3)
    await record(world, follow_up)
    await world.handle.execute(follow_up)

    assert [r.text for r in platform.requests] == ["tell me a long story", "and now?"]
    assert world.sender.sent[-1].text == "second"


async def test_an_edit_of_the_question_being_answered_stops_it_then_replaces_the_partial_answer() -> None:
    platform = StallingPlatform()
    world = build_world(platform=platform)
    room, question, task = await started(world, platform)
    edit = QuestionEdited(
        event_id=EventId("$edit"), room_id=room.room_id, sender=ALICE, edits=question.event_id, body="a short one"
    )
    async with world.uow() as uow:
        await uow.inbox.record(edit)
        await uow.commit()

    PreemptAnswers(world.in_flight)(edit)
    await asyncio.wait_for(task, 5)
    assert world.sender.shown(EventId("$sent1")) == "partial answer\n\n_(stopped)_"

    platform.words, platform.streamed = ["short"], asyncio.Event()
    platform.release.set()
    await world.events.execute(edit)

    last = platform.requests[-1]
    assert last.text == "a short one" and last.replaces_last_turn
    assert world.sender.shown(EventId("$sent1")) == "short"
