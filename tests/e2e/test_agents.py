"""Issue 6, acceptance 2 and 3: the bot against real agents over the network.

The reference platform agent (`surfaces-agent`, the `http` adapter) and the OpenAI-compatible test server
(the `openai` adapter) run as processes of their own on loopback; the bot reads a registry naming both
(the http agent is the default) and shares its workspace with the reference agent.

- A long answer from the http agent is shown progressively: one reply event, then `m.replace` edits, the
  last of which holds the full text.
- The openai agent keeps a conversation's history (in the bot's database) across messages, loses it after
  `!clear`, and `!save` / `!load` carry it to another room; `!save` / `!load` work with the http agent too.
- An unreachable agent gets the person one notice; once it is back the message is answered once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.agent_servers import ServerProcess, openai_server, reference_agent, write_registry
from tests.e2e.conftest import BotStarter, BotUnderTest, NewUser
from tests.e2e.harness import Event, MatrixUser, Predicate
from tests.e2e.helpers import (
    ask,
    body,
    db_rows,
    history_lines,
    new_chat,
    onboard,
    reply_from,
    room_row,
    surfaces_room,
)

HTTP_AGENT = "reference"
OPENAI_AGENT = "gpt"
KEY_ENV = "E2E_OPENAI_API_KEY"
# The reference agent streams three words per chunk, this long apart: LONG_ANSWER's 20 chunks take about
# 4.75 s, well past the bot's 1.5 s before it shows a streaming answer and its 1 s between edits.
CHUNK_DELAY = 0.25
LONG_ANSWER = " ".join(f"word{number:02d}" for number in range(1, 61))
SLOW = 60  # seconds, for anything that waits on streaming or on retries


@dataclass
class AgentsUnderTest:
    bot: BotUnderTest
    reference: ServerProcess
    openai: ServerProcess


@pytest.fixture
def agents(start_bot: BotStarter, tmp_path: Path) -> Iterator[AgentsUnderTest]:
    """Both agent servers running and a bot whose registry names them; the servers stop after the test."""
    workspace = tmp_path / "workspace"  # shared by the bot and the reference agent
    workspace.mkdir()
    key = f"sk-e2e-{uuid.uuid4().hex}"
    reference = reference_agent(workspace, tmp_path, CHUNK_DELAY)
    openai = openai_server(key, tmp_path)
    print(f"agent logs: {reference.log_path} {openai.log_path}")
    try:
        reference.start()
        openai.start()
        registry = write_registry(
            tmp_path / "agents.yaml",
            http_id=HTTP_AGENT,
            http_url=reference.base_url,
            openai_id=OPENAI_AGENT,
            openai_url=openai.base_url,
            key_env=KEY_ENV,
        )
        bot = start_bot(SURFACES_AGENTS_FILE=str(registry), SURFACES_WORKSPACE_DIR=str(workspace), **{KEY_ENV: key})
        yield AgentsUnderTest(bot, reference, openai)
    finally:
        reference.stop()
        openai.stop()


def _edit_of(bot: BotUnderTest, room_id: str, event_id: str) -> Predicate:
    """The bot's `m.replace` edits of `event_id`."""

    def matches(room: str, e: Event) -> bool:
        relates = e.get("content", {}).get("m.relates_to", {})
        return (
            room == room_id
            and e["sender"] == bot.user_id
            and relates.get("rel_type") == "m.replace"
            and relates.get("event_id") == event_id
        )

    return matches


def _edits_of(user: MatrixUser, bot: BotUnderTest, room_id: str, event_id: str) -> list[Event]:
    """The bot's `m.replace` edits of `event_id`, in timeline order."""
    return [e for room, e in user.events if _edit_of(bot, room_id, event_id)(room, e)]


def _replies(user: MatrixUser, bot: BotUnderTest, room_id: str, event_id: str) -> list[Event]:
    return [e for room, e in user.events if reply_from(bot, room_id, event_id)(room, e)]


def _final_text(user: MatrixUser, bot: BotUnderTest, reply: Event) -> str:
    """What the reply finally says: its last edit's new content, or its body when it was never edited."""
    edits = _edits_of(user, bot, reply["room_id"], reply["event_id"])
    return str(edits[-1]["content"]["m.new_content"]["body"]) if edits else body(reply)


async def _settle(user: MatrixUser, bot: BotUnderTest, room_id: str) -> None:
    """Messages in a room are handled in order: once a later one is answered, the bot is done with earlier ones."""
    await ask(user, bot, room_id, "settle", timeout=SLOW)
    await user.sync_once(500)


async def _switch(user: MatrixUser, bot: BotUnderTest, room_id: str, agent_id: str) -> None:
    await ask(user, bot, room_id, f"!agent {agent_id}")
    assert (await surfaces_room(user, room_id))["agent_id"] == agent_id
    assert room_row(bot, room_id)["agent_id"] == agent_id


# -- acceptance 2: streaming ------------------------------------------------------------------------------


async def test_a_long_http_answer_streams_as_edits_that_end_in_the_full_text(
    agents: AgentsUnderTest, new_user: NewUser
) -> None:
    bot = agents.bot
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    assert (await surfaces_room(user, chat))["agent_id"] == HTTP_AGENT, "new rooms start with the default agent"

    sent = await user.send_text(chat, LONG_ANSWER)  # the reference agent echoes it, slowly
    first = await user.wait_for(reply_from(bot, chat, sent), SLOW)
    edit_of_first = _edit_of(bot, chat, first["event_id"])
    await user.wait_for(
        lambda room, e: edit_of_first(room, e) and e["content"]["m.new_content"]["body"] == LONG_ANSWER, SLOW
    )
    await _settle(user, bot, chat)

    assert body(first) != LONG_ANSWER, "the answer was posted whole, not streamed"
    assert LONG_ANSWER.startswith(body(first)), f"the first body is not a prefix: {body(first)!r}"
    assert first["content"]["msgtype"] == "m.text"
    edits = _edits_of(user, bot, chat, first["event_id"])
    assert edits, "no m.replace edit of the streamed reply"
    shown = [edit["content"]["m.new_content"]["body"] for edit in edits]
    assert shown[-1] == LONG_ANSWER, f"the last edit is not the full answer: {shown[-1]!r}"
    for earlier, later in zip([body(first), *shown], shown, strict=False):
        assert LONG_ANSWER.startswith(later) and later.startswith(earlier.rstrip()), f"edits do not grow: {shown}"
    assert len(_replies(user, bot, chat, sent)) == 1, "more than one reply event for one message"
    typing = [users for room, users in user.typing if room == chat]
    assert any(bot.user_id in users for users in typing), "no typing notice while the agent took seconds"
    assert typing and bot.user_id not in typing[-1], f"typing was not cleared after the answer: {typing}"


# -- acceptance 2: history, !clear, !save / !load --------------------------------------------------------


async def test_an_openai_room_keeps_history_across_messages_and_loses_it_after_clear(
    agents: AgentsUnderTest, new_user: NewUser
) -> None:
    bot = agents.bot
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    await _switch(user, bot, chat, OPENAI_AGENT)

    assert body(await ask(user, bot, chat, "What is a space?")) == "What is a space?"
    assert body(await ask(user, bot, chat, "And a room?")) == "And a room?"
    assert body(await ask(user, bot, chat, "!!history")) == history_lines("What is a space?", "And a room?")
    platform_chat_id = room_row(bot, chat)["platform_chat_id"]
    stored = db_rows(bot, "SELECT role, content FROM transcripts WHERE chat_id = ? ORDER BY seq", platform_chat_id)
    assert [row["content"] for row in stored if row["role"] == "user"] == [
        "What is a space?",
        "And a room?",
        "!!history",
    ]

    await ask(user, bot, chat, "!clear")

    assert room_row(bot, chat)["platform_chat_id"] != platform_chat_id
    assert body(await ask(user, bot, chat, "!!history")) == history_lines()
    assert body(await ask(user, bot, chat, "A fresh start")) == "A fresh start"
    assert body(await ask(user, bot, chat, "!!history")) == history_lines("!!history", "A fresh start")


async def test_openai_save_then_load_in_another_openai_room_restores_the_history(
    agents: AgentsUnderTest, new_user: NewUser
) -> None:
    bot = agents.bot
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    await _switch(user, bot, chat, OPENAI_AGENT)
    await ask(user, bot, chat, "Remember apples")
    await ask(user, bot, chat, "Remember pears")

    await ask(user, bot, chat, "!save fruit")

    (snapshot,) = db_rows(bot, "SELECT agent_id FROM snapshots WHERE owner = ? AND label = 'fruit'", user.user_id)
    assert snapshot["agent_id"] == OPENAI_AGENT
    other = await new_chat(user, bot, chat)
    await _switch(user, bot, other, OPENAI_AGENT)
    assert body(await ask(user, bot, other, "Nothing here yet")) == "Nothing here yet"

    await ask(user, bot, other, "!load fruit")

    assert room_row(bot, other)["agent_id"] == OPENAI_AGENT
    assert body(await ask(user, bot, other, "!!history")) == history_lines("Remember apples", "Remember pears")
    # The room it was saved from goes on with its own history, untouched by the load.
    assert body(await ask(user, bot, chat, "!!history")) == history_lines("Remember apples", "Remember pears")


async def test_http_save_clear_and_load_restore_the_reference_agents_history(
    agents: AgentsUnderTest, new_user: NewUser
) -> None:
    bot = agents.bot
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    assert body(await ask(user, bot, chat, "Remember Lisbon")) == "Remember Lisbon"
    assert body(await ask(user, bot, chat, "Remember Porto")) == "Remember Porto"
    assert body(await ask(user, bot, chat, "!!history")) == history_lines("Remember Lisbon", "Remember Porto")

    await ask(user, bot, chat, "!save trip")
    await ask(user, bot, chat, "!clear")

    assert body(await ask(user, bot, chat, "!!history")) == history_lines()
    (snapshot,) = db_rows(bot, "SELECT agent_id FROM snapshots WHERE owner = ? AND label = 'trip'", user.user_id)
    assert snapshot["agent_id"] == HTTP_AGENT

    await ask(user, bot, chat, "!load trip")
    assert body(await ask(user, bot, chat, "!!history")) == history_lines("Remember Lisbon", "Remember Porto")

    other = await new_chat(user, bot, chat)
    assert (await surfaces_room(user, other))["agent_id"] == HTTP_AGENT
    assert body(await ask(user, bot, other, "!!history")) == history_lines()
    await ask(user, bot, other, "!load trip")
    assert body(await ask(user, bot, other, "!!history")) == history_lines("Remember Lisbon", "Remember Porto")


# -- acceptance 3: the agent goes away and comes back ---------------------------------------------------


async def test_an_unreachable_agent_gets_one_notice_and_the_message_is_answered_once_it_is_back(
    agents: AgentsUnderTest, new_user: NewUser
) -> None:
    bot = agents.bot
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    assert body(await ask(user, bot, chat, "Are you there?")) == "Are you there?"

    await asyncio.to_thread(agents.reference.stop)
    sent = await user.send_text(chat, "Answer me when you are back")

    notice = await user.wait_for(reply_from(bot, chat, sent), SLOW)
    assert notice["content"]["msgtype"] == "m.notice"
    assert "not reachable" in body(notice)

    await asyncio.to_thread(agents.reference.start)  # the same port: the registry's base_url again

    answer = await user.wait_for(
        lambda room, e: reply_from(bot, chat, sent)(room, e) and e["content"]["msgtype"] == "m.text", SLOW
    )
    await _settle(user, bot, chat)
    assert _final_text(user, bot, answer) == "Answer me when you are back"
    replies = _replies(user, bot, chat, sent)
    assert [e["event_id"] for e in replies] == [notice["event_id"], answer["event_id"]], (
        f"expected one notice then one answer, got {[(e['content']['msgtype'], body(e)) for e in replies]}"
    )
    notices = [e for room, e in user.events if room == chat and "not reachable" in str(e["content"].get("body"))]
    assert len(notices) == 1, f"more than one notice: {[body(e) for e in notices]}"
