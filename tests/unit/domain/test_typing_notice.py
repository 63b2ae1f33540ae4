"""Typing is shown only for an agent that takes a while, and cleared only when it was shown."""

import asyncio

import pytest

from domain.model.ids import RoomId
from domain.services.typing_notice import TypingNotice
from tests.unit.fakes.network import FakeMessageSender

ROOM = RoomId("!r:example.org")


class WatchedSender(FakeMessageSender):
    """Says when "typing on" has been sent, so a test can wait for it instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.typing_on = asyncio.Event()

    async def set_typing(self, room_id: RoomId, typing: bool) -> None:
        await super().set_typing(room_id, typing)
        if typing:
            self.typing_on.set()


async def test_a_quick_answer_sends_no_typing_at_all() -> None:
    sender = WatchedSender()
    async with TypingNotice(sender, ROOM, after_s=60):
        await asyncio.sleep(0)
    await asyncio.sleep(0)  # a cancelled "on" must not land late
    assert sender.typing == []


async def test_a_slow_answer_shows_typing_then_clears_it() -> None:
    sender = WatchedSender()
    async with TypingNotice(sender, ROOM, after_s=0.01):
        await sender.typing_on.wait()  # the agent is still "thinking" when the delay passes
    assert sender.typing == [(ROOM, True), (ROOM, False)]


async def test_no_delay_shows_typing_at_once() -> None:
    sender = WatchedSender()
    async with TypingNotice(sender, ROOM, after_s=0):
        assert sender.typing == [(ROOM, True)]
    assert sender.typing == [(ROOM, True), (ROOM, False)]


async def test_typing_is_cleared_when_the_work_fails() -> None:
    sender = WatchedSender()
    with pytest.raises(RuntimeError):
        async with TypingNotice(sender, ROOM, after_s=0.01):
            await sender.typing_on.wait()
            raise RuntimeError("agent crashed")
    assert sender.typing == [(ROOM, True), (ROOM, False)]
