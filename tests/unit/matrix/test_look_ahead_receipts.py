"""LookAheadReceipts: one receipt on the newest message waiting in the room covers the one taken and those behind."""

import asyncio

from adapters.matrix.receipts import LookAheadReceipts
from adapters.matrix.room_queues import KeyedWorkQueues
from domain.model.controls import Reaction
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingText, RoomEvent, RoomRenamed
from tests.unit.fakes.network import FakeReadReceipts

ALICE = UserId("@alice:example.org")
ROOM = RoomId("!a:example.org")
OTHER = RoomId("!b:example.org")


def text(n: int, room: RoomId = ROOM) -> IncomingText:
    return IncomingText(event_id=EventId(f"${room[1]}{n}"), room_id=room, sender=ALICE, body=f"m{n}")


class Bot:
    """Room queues that take each message as the domain does: marked read, then answered."""

    def __init__(self) -> None:
        self.sent = FakeReadReceipts()
        self.receipts = LookAheadReceipts(self.sent)
        self.taken: list[EventId] = []
        self.answering = asyncio.Event()
        self.answering.set()
        self.queues: KeyedWorkQueues[RoomEvent] = KeyedWorkQueues(self._take, preempt=self.receipts.arrived)

    async def _take(self, event: RoomEvent) -> None:
        if isinstance(event, IncomingText):
            await self.receipts.mark_read(event.room_id, event.event_id)
        self.taken.append(event.event_id)
        await self.answering.wait()

    def submit(self, *events: RoomEvent) -> None:
        for event in events:
            self.queues.submit(event.room_id, event)

    async def drained(self) -> None:
        async with asyncio.timeout(5):
            while self.queues.busy:
                await asyncio.sleep(0.001)


async def test_a_message_alone_is_marked_read_as_it_is_taken() -> None:
    bot = Bot()
    bot.submit(text(1))
    await bot.drained()
    assert bot.sent.marked == [(ROOM, text(1).event_id)]


async def test_messages_queued_together_take_one_receipt_on_the_newest() -> None:
    bot = Bot()
    bot.submit(*(text(n) for n in range(1, 21)))
    await bot.drained()
    assert bot.taken == [text(n).event_id for n in range(1, 21)]  # every one still handled, in order
    assert bot.sent.marked == [(ROOM, text(20).event_id)]


async def test_a_message_arriving_behind_a_running_answer_is_covered_when_the_next_one_is_taken() -> None:
    bot = Bot()
    bot.answering.clear()
    bot.submit(text(1))
    await asyncio.sleep(0.01)  # the first is taken and being answered
    bot.submit(text(2), text(3))
    bot.answering.set()
    await bot.drained()
    assert bot.sent.marked == [(ROOM, text(1).event_id), (ROOM, text(3).event_id)]


async def test_rooms_are_marked_on_their_own_messages() -> None:
    bot = Bot()
    bot.submit(text(1), text(1, OTHER), text(2), text(2, OTHER))
    await bot.drained()
    assert sorted(bot.sent.marked) == [(ROOM, text(2).event_id), (OTHER, text(2, OTHER).event_id)]


async def test_a_reaction_or_a_rename_behind_a_message_is_never_the_receipt() -> None:
    bot = Bot()
    reaction = Reaction(
        event_id=EventId("$r"), room_id=ROOM, sender=ALICE, reacts_to=EventId("$x"), key="👍", timestamp_ms=0
    )
    renamed = RoomRenamed(event_id=EventId("$n"), room_id=ROOM, sender=ALICE, name="New name")
    bot.submit(text(1), reaction, renamed)
    await bot.drained()
    assert bot.sent.marked == [(ROOM, text(1).event_id)]


async def test_a_message_taken_without_arriving_through_a_queue_is_marked_itself() -> None:
    sent = FakeReadReceipts()
    receipts = LookAheadReceipts(sent)
    await receipts.mark_read(ROOM, EventId("$direct"))
    assert sent.marked == [(ROOM, EventId("$direct"))]
