"""Issue 18, acceptance 2 and 3: `!retry` and a 🔁 reaction replace the latest answer (one `m.replace` chain, and the
agent's next request carries only the new answer); editing the latest question answers the edited text in place,
an edit of an older one gets one notice, and both hold across a restart in the middle.

The agent is the OpenAI-compatible test server (the bot keeps its history): `!!count` answers `answer N`, a new
text each time; `!!answers` lists the assistant messages of the request's history.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.agent_servers import ServerProcess, openai_server, reference_agent, write_registry
from tests.e2e.conftest import BotStarter, BotUnderTest, NewUser
from tests.e2e.harness import Event, MatrixUser, Predicate
from tests.e2e.helpers import WAIT, ask, body, onboard, reply_from

OPENAI_AGENT, KEY_ENV = "gpt", "E2E_OPENAI_API_KEY"
RETRY = "\U0001f501"


@pytest.fixture
def gpt_bot(start_bot: BotStarter, tmp_path: Path) -> Iterator[BotUnderTest]:
    """A bot whose default agent is the OpenAI-compatible test server."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    key = f"sk-e2e-{uuid.uuid4().hex}"
    server: ServerProcess = openai_server(key, tmp_path)
    unused = reference_agent(workspace, tmp_path, 0.0)  # named by the registry, never asked
    try:
        server.start()
        registry = write_registry(
            tmp_path / "agents.yaml",
            http_id="reference",
            http_url=unused.base_url,
            openai_id=OPENAI_AGENT,
            openai_url=server.base_url,
            key_env=KEY_ENV,
        )
        text = registry.read_text(encoding="utf-8").replace("default: reference", f"default: {OPENAI_AGENT}")
        registry.write_text(text, encoding="utf-8")
        yield start_bot(SURFACES_AGENTS_FILE=str(registry), SURFACES_WORKSPACE_DIR=str(workspace), **{KEY_ENV: key})
    finally:
        server.stop()


def _edit_to(bot: BotUnderTest, room_id: str, event_id: str, text: str) -> Predicate:
    """The bot's `m.replace` of `event_id` that makes it read `text`."""

    def matches(room: str, e: Event) -> bool:
        content = e.get("content", {})
        relates = content.get("m.relates_to", {})
        return (
            room == room_id
            and e["sender"] == bot.user_id
            and relates.get("rel_type") == "m.replace"
            and relates.get("event_id") == event_id
            and content.get("m.new_content", {}).get("body") == text
        )

    return matches


def _count(user: MatrixUser, predicate: Predicate) -> int:
    return sum(1 for room, e in user.events if predicate(room, e))


async def _edit(user: MatrixUser, room_id: str, event_id: str, text: str) -> str:
    content = {
        "msgtype": "m.text",
        "body": f"* {text}",
        "m.new_content": {"msgtype": "m.text", "body": text},
        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
    }
    return await user.send_event(room_id, "m.room.message", content)


async def _settle(user: MatrixUser, bot: BotUnderTest, chat: str) -> None:
    await ask(user, bot, chat, "settle")
    await user.sync_once(500)


async def test_retry_and_a_reaction_replace_the_latest_answer_and_the_history_keeps_only_the_new_one(
    gpt_bot: BotUnderTest, new_user: NewUser
) -> None:
    bot, user = gpt_bot, await new_user()
    _, _, chat = await onboard(user, bot)
    answer = await ask(user, bot, chat, "!!count")
    assert body(answer) == "answer 1"

    retry = await user.send_text(chat, "!retry")
    await user.wait_for(_edit_to(bot, chat, answer["event_id"], "answer 2"), WAIT)
    await user.send_event(
        chat, "m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": answer["event_id"], "key": RETRY}}
    )
    await user.wait_for(_edit_to(bot, chat, answer["event_id"], "answer 3"), WAIT)

    assert body(await ask(user, bot, chat, "!!answers")) == "1. answer 3"
    await _settle(user, bot, chat)
    assert not [e for room, e in user.events if reply_from(bot, chat, retry)(room, e)], "!retry posted a new message"
    assert _count(user, _edit_to(bot, chat, answer["event_id"], "answer 3")) == 1


async def test_a_reaction_on_an_older_answer_gets_one_notice(gpt_bot: BotUnderTest, new_user: NewUser) -> None:
    bot, user = gpt_bot, await new_user()
    _, _, chat = await onboard(user, bot)
    older = await ask(user, bot, chat, "first")
    await ask(user, bot, chat, "second")

    reaction = await user.send_event(
        chat, "m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": older["event_id"], "key": RETRY}}
    )
    notice = await user.wait_for(reply_from(bot, chat, reaction), WAIT)
    assert "Only the latest answer" in body(notice)
    assert body(await ask(user, bot, chat, "!!answers")) == "1. first\n2. second"


async def test_editing_the_latest_question_answers_it_again_also_across_a_restart(
    gpt_bot: BotUnderTest, new_user: NewUser
) -> None:
    bot, user = gpt_bot, await new_user()
    _, _, chat = await onboard(user, bot)
    older_question = await user.send_text(chat, "an older question")
    await user.wait_for(reply_from(bot, chat, older_question), WAIT)
    question = await user.send_text(chat, "Tell me about cats")
    answer = await user.wait_for(reply_from(bot, chat, question), WAIT)

    await _edit(user, chat, question, "Tell me about dogs")
    await user.wait_for(_edit_to(bot, chat, answer["event_id"], "Tell me about dogs"), WAIT)
    older_edit = await _edit(user, chat, older_question, "an older question, edited")
    notice = await user.wait_for(reply_from(bot, chat, older_edit), WAIT)
    assert "latest answered question" in body(notice)

    # Edits made while the bot is down (killed: kill -9) are handled after the start, once.
    bot.process.kill()
    await _edit(user, chat, question, "Tell me about birds")
    second_older_edit = await _edit(user, chat, older_question, "edited again")
    bot.process.start()
    bot.process.wait_ready()

    await user.wait_for(_edit_to(bot, chat, answer["event_id"], "Tell me about birds"), WAIT)
    await user.wait_for(reply_from(bot, chat, second_older_edit), WAIT)
    history = await ask(user, bot, chat, "!!history")
    assert body(history) == "1. an older question\n2. Tell me about birds"
    await _settle(user, bot, chat)
    assert _count(user, _edit_to(bot, chat, answer["event_id"], "Tell me about birds")) == 1
    assert _count(user, reply_from(bot, chat, second_older_edit)) == 1
