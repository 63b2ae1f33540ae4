"""Issue 4 acceptance 3: messages that fall out of a `limited` sync timeline are fetched and answered, once.

The bot runs with a tiny timeline limit, so that 30 messages sent while it is down (or 20 sent at once
while it runs) can only be answered through the /messages back-fill. The bot is started on
`BotProcess` directly, with its own small helpers, so this file does not depend on shared fixtures that
other tests reshape.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bootstrap.homeserver import LocalSynapse
from tests.e2e.conftest import BOT_PASSWORD, NewUser, bot_env
from tests.e2e.harness import BotProcess, MatrixUser

Event = dict[str, Any]
WAIT = 60  # seconds: a restart plus 30 echo answers


@dataclass
class Bot:
    user_id: str
    process: BotProcess


StartBot = Callable[..., Bot]


@pytest.fixture
def start_backfill_bot(synapse: LocalSynapse, tmp_path: Path) -> Iterator[StartBot]:
    """`start(timeline_limit)`: a fresh bot account running `surfaces run`, ready; SIGTERM at the end."""
    bots: list[Bot] = []

    def start(timeline_limit: int) -> Bot:
        user_id = synapse.register(f"bot-{uuid.uuid4().hex[:8]}", BOT_PASSWORD)
        root = tmp_path / f"bot-{len(bots) + 1}"
        env = {**bot_env(synapse, user_id, root), "SURFACES_SYNC_TIMELINE_LIMIT": str(timeline_limit)}
        bot = Bot(user_id, BotProcess(env, root / "bot.log"))
        print(f"bot log: {bot.process.log_path}")  # shown with a failing test's output
        bots.append(bot)
        bot.process.start()
        bot.process.wait_ready()
        return bot

    yield start
    for bot in bots:
        if bot.process.is_running():
            bot.process.stop()


def _replied_to(event: Event) -> str | None:
    relates = event.get("content", {}).get("m.relates_to", {})
    target = relates.get("m.in_reply_to", {}).get("event_id") if isinstance(relates, dict) else None
    return target if isinstance(target, str) else None


def _from_bot_in(room_id: str, bot: Bot) -> Callable[[str, Event], bool]:
    return lambda room, e: room == room_id and e["sender"] == bot.user_id and e["type"] == "m.room.message"


async def _onboard(user: MatrixUser, bot: Bot) -> str:
    """Invites the bot to a DM and joins what it offers; returns the chat room (not the Space)."""
    dm = await user.create_dm(bot.user_id)
    await user.wait_for(_from_bot_in(dm, bot), WAIT)
    invited = [await user.wait_for_invite(WAIT), await user.wait_for_invite(WAIT)]
    for room_id in invited:
        await user.join(room_id)
    creates = {r: next(e for e in await user.room_state(r) if e["type"] == "m.room.create") for r in invited}
    (chat,) = [r for r, create in creates.items() if create["content"].get("type") != "m.space"]
    await user.wait_for(_from_bot_in(chat, bot), WAIT)  # the welcome: the room is live
    return chat


async def _answers(user: MatrixUser, bot: Bot, room_id: str, asked: list[str]) -> Counter[str]:
    """Waits until every asked event has a bot reply, lets a further sync settle, then counts replies."""
    for event_id in asked:
        await user.wait_for(
            lambda room, e, i=event_id: _from_bot_in(room_id, bot)(room, e) and _replied_to(e) == i, WAIT
        )
    await asyncio.sleep(1.5)  # a duplicate would be sent right after the first answer: give it time
    await user.sync_once(1000)
    return Counter(_replied_to(e) for room, e in user.events if _from_bot_in(room_id, bot)(room, e))


def _assert_each_answered_once(counts: Counter[str], asked: list[str]) -> None:
    missing = [i for i in asked if counts[i] == 0]
    twice = {i: n for i, n in counts.items() if n > 1}
    assert not missing and not twice, f"unanswered: {missing}; answered more than once: {twice}"


@pytest.mark.parametrize("timeline_limit", [5, 100])
async def test_messages_sent_while_the_bot_is_down_are_answered_once(
    start_backfill_bot: StartBot, new_user: NewUser, timeline_limit: int
) -> None:
    user = await new_user()
    bot = start_backfill_bot(timeline_limit)
    chat = await _onboard(user, bot)
    before = await user.send_text(chat, "before the stop")
    await user.wait_for(lambda room, e: room == chat and _replied_to(e) == before, WAIT)

    assert bot.process.stop() == 0
    asked = [await user.send_text(chat, f"while down {n}") for n in range(30)]
    bot.process.start()
    bot.process.wait_ready()

    counts = await _answers(user, bot, chat, asked)
    _assert_each_answered_once(counts, [before, *asked])
    replies = {_replied_to(e): e["content"]["body"] for room, e in user.events if _from_bot_in(chat, bot)(room, e)}
    assert [replies[i] for i in asked] == [f"while down {n}" for n in range(30)]
    if timeline_limit < 30:
        assert "backfill_done" in bot.process.log_text(), "30 messages cannot fit a timeline of 5"


async def test_a_burst_while_running_is_answered_once(start_backfill_bot: StartBot, new_user: NewUser) -> None:
    user = await new_user()
    bot = start_backfill_bot(5)
    chat = await _onboard(user, bot)

    asked = list(await asyncio.gather(*(user.send_text(chat, f"burst {n}") for n in range(20))))

    counts = await _answers(user, bot, chat, asked)
    _assert_each_answered_once(counts, asked)
    print(f"back-fills during the burst: {bot.process.log_text().count('backfill_done')}")
