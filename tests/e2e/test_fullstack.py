"""Acceptance of the containers (issue 7): the fullstack compose stack, driven as an ordinary Matrix client.

Synapse, the reference platform-agent and the bot run in their own containers, health-gated, sharing one
workspace volume; the test talks only to the published 127.0.0.1 ports of Synapse and the bot.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest

from tests.e2e.conftest import BotUnderTest
from tests.e2e.fullstack import BOT_ID, Stack, stack  # noqa: F401 - `stack` is the module's fixture
from tests.e2e.harness import Event, MatrixUser
from tests.e2e.helpers import ask, body, onboard, reply_from

PASSWORD = "fullstack-user-password"
WAIT = 60


@dataclass
class _StackBot:
    """What the shared helpers need of a bot: its user id (here it runs in a container, not a process)."""

    user_id: str = BOT_ID


BOT = cast(BotUnderTest, _StackBot())
Login = Callable[[], Awaitable[MatrixUser]]


@pytest.fixture
async def login(stack: Stack) -> AsyncIterator[Login]:  # noqa: F811
    users: list[MatrixUser] = []

    async def make() -> MatrixUser:
        user_id = stack.register(stack.new_localpart(), PASSWORD)
        user = await MatrixUser.login(stack.synapse_url, user_id, PASSWORD)
        users.append(user)
        return user

    yield make
    for user in users:
        await user.close()


def test_bot_container_runs_as_non_root_and_is_healthy(stack: Stack) -> None:  # noqa: F811
    uid = stack.compose("exec", "-T", "bot", "id", "-u").strip()
    assert uid == "10001"
    agent_uid = stack.compose("exec", "-T", "agent", "id", "-u").strip()
    assert agent_uid == uid, "bot and agent must share the workspace volume as one uid"
    state = cast(dict[str, dict[str, str]], stack.inspect("bot"))["State"]
    assert cast(dict[str, str], state["Health"])["Status"] == "healthy"


async def test_chat_is_answered_by_the_reference_agent_and_metrics_move(stack: Stack, login: Login) -> None:  # noqa: F811
    before = stack.metrics()
    user = await login()
    _, _, chat = await onboard(user, BOT)

    reply = await ask(user, BOT, chat, "hello from the fullstack test", WAIT)
    assert body(reply) == "hello from the fullstack test"  # the reference agent's echo brain

    after = stack.metrics()
    assert _total(after, "surfaces_messages_received_total") > _total(before, "surfaces_messages_received_total")
    assert _total(after, "surfaces_answers_total") > _total(before, "surfaces_answers_total")
    assert _total(after, "surfaces_agent_answer_seconds_count") > _total(before, "surfaces_agent_answer_seconds_count")
    assert _total(after, "surfaces_reconciliation_seconds_count") >= 1
    assert after.get('surfaces_rooms{state="active"}', 0) >= 1


async def test_files_go_both_ways_through_the_shared_workspace(stack: Stack, login: Login, tmp_path: Path) -> None:  # noqa: F811
    user = await login()
    _, _, chat = await onboard(user, BOT)

    report = tmp_path / "report.txt"
    report.write_bytes(b"quarterly numbers: 1, 2, 3\n")
    sent = await user.send_file(chat, report, "text/plain", body="please read the report")
    answer = await user.wait_for(reply_from(BOT, chat, sent), WAIT)
    # The agent read the file from the shared volume: it names it and its checksum.
    assert "report.txt" in body(answer)
    assert hashlib.sha256(report.read_bytes()).hexdigest() in body(answer)

    mark = user.mark()
    await ask(user, BOT, chat, "write notes.txt: written by the agent", WAIT)
    posted = await user.wait_for(_file_from_bot(chat), WAIT, after=mark)
    assert posted["content"]["body"] == "notes.txt"
    assert await user.download(posted["content"]["url"]) == b"written by the agent"


async def test_killed_bot_container_loses_nothing(stack: Stack, login: Login) -> None:  # noqa: F811
    user = await login()
    _, _, chat = await onboard(user, BOT)
    await ask(user, BOT, chat, "before the crash", WAIT)

    subprocess.run(["docker", "kill", "--signal", "KILL", stack.container_id("bot")], check=True, capture_output=True)
    sent_while_down = await user.send_text(chat, "sent while the bot was down")
    stack.compose("start", "bot")
    stack.wait_bot_ready()

    await user.wait_for(reply_from(BOT, chat, sent_while_down), WAIT)
    await user.sync_once(3000)  # time for a duplicate to show up, were there one
    replies = [e for room, e in user.events if reply_from(BOT, chat, sent_while_down)(room, e)]
    assert len(replies) == 1, f"answered {len(replies)} times"


def _file_from_bot(chat: str) -> Callable[[str, Event], bool]:
    def matches(room: str, event: Event) -> bool:
        content = event.get("content", {})
        return room == chat and event.get("sender") == BOT_ID and content.get("msgtype") in ("m.file", "m.image")

    return matches


def _total(samples: dict[str, float], name: str) -> float:
    """The sum of a metric over all its label sets."""
    return sum(value for key, value in samples.items() if key == name or key.startswith(name + "{"))
