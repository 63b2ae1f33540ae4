"""Regenerate (`!retry`, 🔁) and edit of the latest question: a new answer in place of the last turn."""

from domain.model.agent import Done, TextDelta
from domain.model.controls import QuestionEdited, Reaction
from domain.model.ids import EventId, UserId
from domain.model.messages import IncomingText
from domain.model.room import ChatRoom
from tests.unit.domain.conftest import World, build_world
from tests.unit.domain.test_handle_message import chat_of, record
from tests.unit.fakes.network import ScriptedPlatform

ALICE = UserId("@alice:example.org")
MALLORY = UserId("@mallory:example.org")
RETRY_KEY = "\U0001f501"


def text(room: ChatRoom, body: str, n: int) -> IncomingText:
    return IncomingText(event_id=EventId(f"$m{n}"), room_id=room.room_id, sender=ALICE, body=body)


async def asked(world: World, room: ChatRoom, body: str, n: int) -> IncomingText:
    message = text(room, body, n)
    await record(world, message)
    await world.handle.execute(message)
    return message


async def handled(world: World, event: Reaction | QuestionEdited) -> None:
    async with world.uow() as uow:
        await uow.inbox.record(event)
        await uow.commit()
    await world.events.execute(event)


def reaction(room: ChatRoom, to: EventId, n: int = 1, sender: UserId = ALICE) -> Reaction:
    return Reaction(event_id=EventId(f"$r{n}"), room_id=room.room_id, sender=sender, reacts_to=to, key=RETRY_KEY)


async def test_retry_answers_the_latest_question_again_in_place_of_the_old_answer() -> None:
    platform = ScriptedPlatform()
    world = build_world(platform=platform)
    room = await chat_of(world)
    await asked(world, room, "first", 1)
    question = await asked(world, room, "second", 2)
    platform.events = [TextDelta(text="better"), Done()]

    retry = await asked(world, room, "!retry", 3)

    last = platform.requests[-1]
    assert last.text == "second" and last.replaces_last_turn and last.request_id == retry.event_id
    assert len(world.sender.sent) == 2  # no new message: the second answer was replaced
    assert world.sender.shown(EventId("$sent2")) == "better"
    async with world.uow() as uow:
        turn = await uow.turns.get(room.room_id)
        assert await uow.inbox.is_done(retry.event_id)
    assert turn is not None and turn.question_id == question.event_id and turn.answer_id == "$sent2"


async def test_a_retry_reaction_on_the_latest_answer_regenerates_it_once() -> None:
    platform = ScriptedPlatform()
    world = build_world(platform=platform)
    room = await chat_of(world)
    await asked(world, room, "question", 1)
    platform.events = [TextDelta(text="again"), Done()]
    react = reaction(room, EventId("$sent1"))

    await handled(world, react)
    await world.events.execute(react)  # delivered twice (a crash, a replayed sync): acted on once

    assert [r.text for r in platform.requests] == ["question", "question"]
    assert world.sender.shown(EventId("$sent1")) == "again"


async def test_a_retry_reaction_on_an_older_answer_gets_one_notice() -> None:
    world = build_world()
    room = await chat_of(world)
    await asked(world, room, "one", 1)
    await asked(world, room, "two", 2)

    await handled(world, reaction(room, EventId("$sent1")))

    assert len(world.platform.requests) == 2
    notice = world.sender.sent[-1]
    assert notice.notice and "Only the latest answer" in notice.text


async def test_a_strangers_reaction_and_a_retry_with_nothing_answered_do_nothing_but_tell() -> None:
    world = build_world()
    room = await chat_of(world)
    retry = await asked(world, room, "!retry", 1)
    assert world.sender.sent[-1].text == "There is no answer here to generate again yet."
    assert world.sender.sent[-1].reply_to == retry.event_id

    await asked(world, room, "q", 2)
    await handled(world, reaction(room, EventId("$sent2"), sender=MALLORY))
    assert len(world.platform.requests) == 1


async def test_editing_the_latest_question_answers_the_edited_text_in_place() -> None:
    platform = ScriptedPlatform()
    world = build_world(platform=platform)
    room = await chat_of(world)
    question = await asked(world, room, "teh question", 1)
    platform.events = [TextDelta(text="fixed"), Done()]
    edit = QuestionEdited(
        event_id=EventId("$e1"), room_id=room.room_id, sender=ALICE, edits=question.event_id, body="the question"
    )

    await handled(world, edit)

    last = platform.requests[-1]
    assert last.text == "the question" and last.replaces_last_turn
    assert world.sender.shown(EventId("$sent1")) == "fixed"
    async with world.uow() as uow:
        turn = await uow.turns.get(room.room_id)
    assert turn is not None and turn.question == "the question" and turn.question_id == question.event_id


async def test_editing_an_older_question_gets_one_notice() -> None:
    world = build_world()
    room = await chat_of(world)
    older = await asked(world, room, "one", 1)
    await asked(world, room, "two", 2)

    edit = QuestionEdited(event_id=EventId("$e1"), room_id=room.room_id, sender=ALICE, edits=older.event_id, body="x")
    await handled(world, edit)

    assert len(world.platform.requests) == 2
    assert "latest answered question" in world.sender.sent[-1].text
