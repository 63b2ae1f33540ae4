"""Issue 18, acceptance 1: `!stop`, or redacting the question, cuts a streaming answer short.

The stream ends at once (the bot closes it), the room keeps the partial answer marked stopped, and the agent's
context holds the partial text for the next question: the reference agent over the http contract (`!stop`) and
the OpenAI-compatible test server, whose history the bot keeps (a redaction).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.agent_servers import ServerProcess, openai_server, reference_agent, write_registry
from tests.e2e.conftest import BotStarter, BotUnderTest, NewUser
from tests.e2e.harness import Event, MatrixUser, Predicate
from tests.e2e.helpers import ask, body, onboard, reply_from

HTTP_AGENT, OPENAI_AGENT, KEY_ENV = "reference", "gpt", "E2E_OPENAI_API_KEY"
CHUNK_DELAY = 0.25
# About 70 chunks 0.25 s apart: some 17 s of streaming, far longer than a stop may take.
LONG_TEXT = " ".join(f"word{number:03d}" for number in range(1, 201))
STOPPED = "_(stopped)_"
SLOW = 60
STOP_BOUND = 10  # seconds: the stream ends within 2 s; the rest is the test client's sync round trips


@dataclass
class Stack:
    bot: BotUnderTest
    reference: ServerProcess
    openai: ServerProcess


@pytest.fixture
def stack(start_bot: BotStarter, tmp_path: Path) -> Iterator[Stack]:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    key = f"sk-e2e-{uuid.uuid4().hex}"
    reference = reference_agent(workspace, tmp_path, CHUNK_DELAY)
    openai = openai_server(key, tmp_path)
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
        yield Stack(bot, reference, openai)
    finally:
        reference.stop()
        openai.stop()


def _stopped_edit_of(bot: BotUnderTest, room_id: str, event_id: str) -> Predicate:
    def matches(room: str, e: Event) -> bool:
        relates = e.get("content", {}).get("m.relates_to", {})
        new = e.get("content", {}).get("m.new_content", {})
        return (
            room == room_id
            and e["sender"] == bot.user_id
            and relates.get("rel_type") == "m.replace"
            and relates.get("event_id") == event_id
            and str(new.get("body", "")).endswith(STOPPED)
        )

    return matches


async def _stop_while_streaming(user: MatrixUser, bot: BotUnderTest, chat: str, question: str, stop: object) -> str:
    """Waits for the streamed reply to `question`, stops it with `stop()`, returns the partial text shown."""
    first = await user.wait_for(reply_from(bot, chat, question), SLOW)
    started = time.monotonic()
    await stop()  # type: ignore[operator]
    stopped = await user.wait_for(_stopped_edit_of(bot, chat, first["event_id"]), SLOW)
    assert time.monotonic() - started < STOP_BOUND, "the answer was not stopped promptly"
    shown = str(stopped["content"]["m.new_content"]["body"]).removesuffix(STOPPED).strip()
    assert shown and LONG_TEXT.startswith(shown) and shown != LONG_TEXT, f"not a partial answer: {shown!r}"
    return shown


async def _final_answer(user: MatrixUser, bot: BotUnderTest, chat: str, text: str) -> str:
    """The bot's answer to `text` as it finally reads (a slow agent's answer grows by edits)."""
    reply = await ask(user, bot, chat, text, timeout=SLOW)
    await ask(user, bot, chat, "settle", timeout=SLOW)  # answered in order: the answer before it is final
    await user.sync_once(500)
    edits = [
        e
        for room, e in user.events
        if room == chat
        and e.get("content", {}).get("m.relates_to", {}).get("event_id") == reply["event_id"]
        and e["content"]["m.relates_to"].get("rel_type") == "m.replace"
    ]
    return str(edits[-1]["content"]["m.new_content"]["body"]) if edits else body(reply)


async def test_stop_ends_the_http_stream_keeps_the_partial_answer_and_the_agent_remembers_it(
    stack: Stack, new_user: NewUser
) -> None:
    bot = stack.bot
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    question = await user.send_text(chat, LONG_TEXT)  # the reference agent echoes it, slowly
    stop_event: list[str] = []

    async def stop() -> None:
        stop_event.append(await user.send_text(chat, "!stop"))

    shown = await _stop_while_streaming(user, bot, chat, question, stop)

    remembered = await _final_answer(user, bot, chat, "!!answers")
    assert remembered.startswith("1. "), remembered
    kept = remembered.removeprefix("1. ")
    # What the agent had sent when the bot closed the stream: what the person saw, give or take a chunk in flight.
    assert kept.startswith(shown) and LONG_TEXT.startswith(kept) and kept != LONG_TEXT, (shown, kept)
    await user.sync_once(500)
    assert not [e for room, e in user.events if reply_from(bot, chat, stop_event[0])(room, e)], "!stop got a reply"


async def test_redacting_the_question_stops_the_openai_answer_and_the_next_request_carries_the_partial_text(
    stack: Stack, new_user: NewUser
) -> None:
    bot = stack.bot
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    await ask(user, bot, chat, f"!agent {OPENAI_AGENT}")
    question = await user.send_text(chat, f"!!slow {CHUNK_DELAY} {LONG_TEXT}")

    async def redact() -> None:
        await user.client.room_redact(chat, question, reason="changed my mind")

    shown = await _stop_while_streaming(user, bot, chat, question, redact)

    remembered = await _final_answer(user, bot, chat, "!!answers")
    assert remembered.rstrip() == f"1. {shown}", (remembered, shown)


async def test_stop_with_nothing_running_gets_a_short_notice(stack: Stack, new_user: NewUser) -> None:
    bot = stack.bot
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    notice = await ask(user, bot, chat, "!stop")
    assert body(notice) == "There is no answer being written to stop."
