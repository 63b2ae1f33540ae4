"""Issue 9, fault tests: the bot as a real process meets a homeserver outage, failing and stuck agents, an
unwritable workspace and a flood, and keeps answering every message exactly once.

Answers are counted per user event from the room's server-side timeline (`/messages`): a bot event whose
`m.in_reply_to` points at the user event (edits carry `m.replace`, not `m.in_reply_to`, so a streamed
answer counts once). Nothing is timed; every wait is generous and a settle period precedes each count.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
import urllib.request
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from domain.model.workspace_layout import room_inbox
from tests.e2e.conftest import BotStarter, BotUnderTest, NewUser
from tests.e2e.harness import Event, MatrixUser
from tests.e2e.harness.homeserver import Homeserver
from tests.e2e.helpers import body, db_rows, eventually, onboard, reply_from
from tests.servers.loopback import serve

WAIT = 60  # seconds, for anything that should happen
RECONNECT_WAIT = 120  # the bot's sync back-off reaches 30 s during an outage: its next try may be that far off
SETTLE = 3.0  # a duplicate would follow the first answer quickly; give it the time to show
OUTAGE_S = 30.0

# The bot's notices, as the catalog (domain/catalog.py, English) words them.
AGENT_FAILED = "could not answer"
AGENT_RETRYING = "not reachable right now"
AGENT_GAVE_UP = "gave up on this message"
WORKSPACE_UNAVAILABLE = "cannot be written right now"
SLOW_DOWN = "faster than the agent can take them"


# -- counting answers --------------------------------------------------------------------------------


def replied_to(event: Event) -> str | None:
    relates = event.get("content", {}).get("m.relates_to", {})
    target = relates.get("m.in_reply_to", {}).get("event_id") if isinstance(relates, dict) else None
    return target if isinstance(target, str) else None


@dataclass
class Timeline:
    """The room as the server has it: the bot's replies by the event they reply to, and its edits."""

    replies: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))
    edits: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))

    def replies_to(self, event_id: str) -> list[Event]:
        return self.replies.get(event_id, [])

    def shown(self, reply: Event) -> str:
        """What a client shows for the reply: the body of its latest edit, else its own body."""
        edits = self.edits.get(str(reply["event_id"]), [])
        if not edits:
            return body(reply)
        latest = max(edits, key=lambda e: int(e["origin_server_ts"]))
        return str(latest["content"].get("m.new_content", {}).get("body", ""))

    def describe(self, event_ids: Iterable[str]) -> str:
        lines = []
        for event_id in event_ids:
            shown = [self.shown(r)[:80] for r in self.replies_to(event_id)]
            lines.append(f"  {event_id}: {len(shown)} repl{'y' if len(shown) == 1 else 'ies'} {shown}")
        return "\n".join(lines)


async def timeline(user: MatrixUser, bot: BotUnderTest, room_id: str, limit: int = 300) -> Timeline:
    """The bot's replies and edits in the room's newest `limit` events, read from the server."""
    result = Timeline()
    for event in reversed(await user.messages(room_id, limit)):  # oldest first
        if event["sender"] != bot.user_id or event["type"] != "m.room.message":
            continue
        relates = event.get("content", {}).get("m.relates_to", {})
        if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
            result.edits[str(relates.get("event_id"))].append(event)
        elif (target := replied_to(event)) is not None:
            result.replies[target].append(event)
    return result


async def settled_timeline(user: MatrixUser, bot: BotUnderTest, room_id: str, waits: Iterable[str]) -> Timeline:
    """Waits for a first reply to each event of `waits`, lets duplicates show, then reads the room."""
    for event_id in waits:
        await user.wait_for(reply_from(bot, room_id, event_id), WAIT)
    await asyncio.sleep(SETTLE)
    return await timeline(user, bot, room_id)


def assert_answered_once(room: Timeline, asked: dict[str, str]) -> None:
    """`asked` maps user event id -> the text the echo agent answers it with: one reply each, that text."""
    wrong = {
        event_id: [room.shown(r) for r in room.replies_to(event_id)]
        for event_id, text in asked.items()
        if [room.shown(r) for r in room.replies_to(event_id)] != [text]
    }
    assert not wrong, (
        "each message must have exactly one reply, its echo; these do not (event: replies shown):\n"
        + "\n".join(f"  {event_id} expected [{asked[event_id]!r}], got {got}" for event_id, got in wrong.items())
    )


def inbox_row(bot: BotUnderTest, event_id: str) -> dict[str, Any]:
    rows = db_rows(bot, "SELECT event_id, kind, done FROM inbox WHERE event_id = ?", event_id)
    assert len(rows) == 1, f"expected one inbox row for {event_id}, found {rows}"
    return rows[0]


def done_count(bot: BotUnderTest, event_ids: list[str]) -> int:
    marks = ", ".join("?" * len(event_ids))
    return len(db_rows(bot, f"SELECT 1 FROM inbox WHERE done AND event_id IN ({marks})", *event_ids))


def log_events(bot: BotUnderTest, since: int = 0) -> list[dict[str, Any]]:
    """The bot's JSON log lines from character offset `since` of its log on."""
    events = []
    for line in bot.process.log_text()[since:].splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            events.append(parsed)
    return events


_SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) ([-+.\deE]+|NaN|[+-]Inf)$")


def metrics(bot: BotUnderTest) -> dict[str, float]:
    """The bot's `/metrics` as {"name{labels}": value}."""
    url = f"http://127.0.0.1:{bot.process.http_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {m.group(1): float(m.group(2)) for line in text.splitlines() if (m := _SAMPLE.match(line))}


def agent_requests(bot: BotUnderTest) -> float:
    """How many answers the agents ended (every outcome): how many requests reached an agent."""
    return sum(value for name, value in metrics(bot).items() if name.startswith("surfaces_answers_total{"))


# -- 1. the homeserver down for 30 s -----------------------------------------------------------------


def restore_homeserver(synapse: Homeserver) -> None:
    """Started again and answering /health (both kinds wait for it), whatever state the test left it in."""
    synapse.start()
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{synapse.url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the homeserver at {synapse.url} is not healthy again after the outage")
        time.sleep(0.2)


def sync_failures(bot: BotUnderTest, since: int) -> list[dict[str, Any]]:
    return [e for e in log_events(bot, since) if e.get("event") in ("sync_transport_error", "sync_failed")]


async def test_homeserver_down_for_30_s_while_the_person_keeps_writing(
    synapse: Homeserver, start_bot: BotStarter, new_user: NewUser
) -> None:
    bot = start_bot()
    user = await new_user()
    _, _, chat = await onboard(user, bot)

    # Right before the outage: quick ones, and one whose answer falls due while the homeserver is down.
    asked = {await user.send_text(chat, text): text for text in ("before the outage 1", "before the outage 2")}
    asked[await user.send_text(chat, "!!sleep 4 answered across the outage")] = "answered across the outage"
    log_mark = len(bot.process.log_text())
    try:
        synapse.stop()
        down_since = time.monotonic()
        while time.monotonic() - down_since < OUTAGE_S:
            await asyncio.sleep(1)
            assert bot.process.is_running(), (
                f"the bot exited with {bot.process.returncode} while the homeserver was down:\n{bot.process.log_tail()}"
            )
        failures = sync_failures(bot, log_mark)
    finally:
        restore_homeserver(synapse)

    delays = [float(e["retry_in_s"]) for e in failures]
    assert len(delays) >= 3, f"expected sync failures with back-off in the log during 30 s down, got {failures}"
    # Exponential with jitter (0.5 s doubling to 30 s; each delay drawn from [ceiling/2, ceiling]).
    assert delays[-1] > delays[0] * 4, f"the back-off does not grow: retry_in_s {delays}"
    assert all(b >= a for a, b in itertools.pairwise(delays) if b < 15), f"retry_in_s shrank: {delays}"

    # Back up: the same process reconnects by itself; the person writes more.
    after = {await user.send_text(chat, f"after the outage {n}"): f"after the outage {n}" for n in (1, 2, 3)}
    asked |= after
    for event_id in asked:
        await user.wait_for(reply_from(bot, chat, event_id), RECONNECT_WAIT)
    await asyncio.sleep(SETTLE)
    assert bot.process.is_running(), f"the bot is not running after the outage:\n{bot.process.log_tail()}"
    assert bot.process.log_text().count("===== harness: start #") == 1, "the bot was restarted"
    room = await timeline(user, bot, chat)
    assert_answered_once(room, asked)


# -- 2. agent faults ---------------------------------------------------------------------------------


async def test_a_failing_and_a_slow_echo_agent_each_answer_once(bot: BotUnderTest, new_user: NewUser) -> None:
    """The echo agent runs inside the bot and has no timeout of its own (none is applied to it): its "hang" is
    `!!sleep N` (capped at 30 s). Timeouts proper belong to the http agent, tested below."""
    user = await new_user()
    _, _, chat = await onboard(user, bot)

    failed = await user.send_text(chat, "!!fail")
    slow = await user.send_text(chat, "!!sleep 5 a slow answer arrives once")
    later = await user.send_text(chat, "the room goes on")
    room = await settled_timeline(user, bot, chat, (failed, slow, later))

    notices = room.replies_to(failed)
    assert len(notices) == 1, f"!!fail must get exactly one reply:\n{room.describe([failed])}"
    assert AGENT_FAILED in body(notices[0]) and "echo agent was asked to fail" in body(notices[0]), body(notices[0])
    assert_answered_once(room, {slow: "a slow answer arrives once", later: "the room goes on"})


@dataclass
class FlakyAgent:
    """A platform speaking the contract (docs/platform-contract.md) that misbehaves on cue, by the text:

    - `hang-once …`: the first attempt sends one delta, then nothing (past the bot's read timeout);
    - `drop-once …`: the first attempt sends half the answer (slowly enough that the bot shows it), then the
      connection is cut without a terminal event;
    - `hang-always …`: every attempt hangs;
    - anything else, and every later attempt: the text echoed, then `done`.
    """

    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/health", _health)
        app.router.add_post("/v1/chats/{chat}/messages", self._message)
        app.router.add_post("/v1/chats/{chat}/title", _no_title)
        app.router.add_delete("/v1/chats/{chat}", _forgotten)
        return app

    async def _message(self, request: web.Request) -> web.StreamResponse:
        text = str((await request.json())["text"])
        self.attempts[text] += 1
        first = self.attempts[text] == 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        if text.startswith("hang-always") or (text.startswith("hang-once") and first):
            await self._send(response, "delta", {"text": "Thinking"})
            await self._hang()
            return response
        if text.startswith("drop-once") and first:
            half = len(text) // 2
            await self._send(response, "delta", {"text": text[:half]})
            # The bot shows a slow answer after 1.5 s (StreamingPolicy.show_after_s): the next delta comes
            # later than that, so the half answer is on screen when the stream breaks.
            await asyncio.sleep(READ_TIMEOUT_S / 2 + 0.5)
            await self._send(response, "delta", {"text": text[half : half + 2]})
            await asyncio.sleep(0.3)
            raise ConnectionResetError("cut mid-answer")  # aiohttp drops the connection: no terminal event
        for start in range(0, len(text), 8):
            await self._send(response, "delta", {"text": text[start : start + 8]})
        await self._send(response, "done", {"usage": {"input_tokens": 0, "output_tokens": 0}})
        await response.write_eof()
        return response

    async def _hang(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.released.wait(), 60)

    @staticmethod
    async def _send(response: web.StreamResponse, kind: str, data: dict[str, Any]) -> None:
        await response.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())


async def _health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _no_title(_: web.Request) -> web.Response:
    return web.json_response({"error": {"message": "no titles here", "retryable": False}}, status=404)


async def _forgotten(_: web.Request) -> web.Response:
    return web.Response(status=204)


@pytest.fixture
async def flaky_agent() -> AsyncIterator[tuple[FlakyAgent, str]]:
    agent = FlakyAgent()
    async with serve(agent.app()) as url:
        try:
            yield agent, url
        finally:
            agent.released.set()


READ_TIMEOUT_S = 4  # the http agent's read timeout: the longest silence it accepts mid-answer
AGENT_RETRY_S = 10  # how long the bot retries an unreachable (or stuck) agent before it gives up


async def test_an_agent_that_hangs_or_drops_the_stream_is_retried_and_answers_once(
    flaky_agent: tuple[FlakyAgent, str], start_bot: BotStarter, new_user: NewUser, tmp_path: Path
) -> None:
    agent, url = flaky_agent
    agents_file = tmp_path / "agents.yaml"
    agents_file.write_text(
        "default: flaky\n"
        "agents:\n"
        "  - id: flaky\n"
        "    adapter: http\n"
        f"    settings: {{base_url: '{url}', read_timeout: {READ_TIMEOUT_S}, connect_timeout: 2}}\n"
    )
    bot = start_bot(SURFACES_AGENTS_FILE=str(agents_file), SURFACES_AGENT_RETRY_S=str(AGENT_RETRY_S))
    user = await new_user()
    _, _, chat = await onboard(user, bot)

    texts = {
        "hang": "hang-once and then answer",
        "drop": "drop-once half way through this answer",
        "stuck": "hang-always never answers",
        "after": "the room goes on",
    }
    sent = {key: await user.send_text(chat, text) for key, text in texts.items()}

    # Each faulty message first gets the retry notice, then its answer (or, for the stuck one, the give-up).
    for key in ("hang", "drop", "stuck"):
        await _wait_replies(user, bot, chat, sent[key], 2)
    await user.wait_for(reply_from(bot, chat, sent["after"]), WAIT)
    await asyncio.sleep(SETTLE)
    room = await timeline(user, bot, chat)
    print(room.describe(sent.values()))

    for key in ("hang", "drop"):
        replies = room.replies_to(sent[key])
        notices = [r for r in replies if AGENT_RETRYING in body(r)]
        answers = [r for r in replies if r not in notices]
        assert len(notices) == 1 and len(answers) == 1, (
            f"{key}: expected one retry notice and one answer:\n{room.describe([sent[key]])}"
        )
        assert room.shown(answers[0]) == texts[key], f"{key}: the answer shown is {room.shown(answers[0])!r}"
        assert agent.attempts[texts[key]] >= 2, f"{key}: the agent was asked {agent.attempts[texts[key]]} times"
    # The half answer was on screen when the stream broke: the retry completed that same event by an edit.
    (half,) = [r for r in room.replies_to(sent["drop"]) if AGENT_RETRYING not in body(r)]
    assert body(half) != texts["drop"] and texts["drop"].startswith(body(half)), (
        f"drop: the answer was not shown half-way first (posted as {body(half)!r})"
    )
    replies = room.replies_to(sent["stuck"])
    # The reply event may first have shown the partial "Thinking" of a later attempt; the give-up is its last edit.
    shown = [room.shown(r) for r in replies]
    assert len(shown) == 2 and AGENT_RETRYING in shown[0] and AGENT_GAVE_UP in shown[1], (
        f"stuck: expected a retry notice, then the give-up:\n{room.describe([sent['stuck']])}"
    )
    assert agent.attempts[texts["stuck"]] >= 2, "the stuck message was never retried"
    assert_answered_once(room, {sent["after"]: texts["after"]})
    for event_id in sent.values():
        assert inbox_row(bot, event_id)["done"], f"{event_id} is not marked done in the inbox"


async def _wait_replies(user: MatrixUser, bot: BotUnderTest, room_id: str, event_id: str, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while (
        len([e for r, e in user.events if r == room_id and e["sender"] == bot.user_id and replied_to(e) == event_id])
        < count
    ):
        assert time.monotonic() < deadline, f"{event_id} did not get {count} replies within {WAIT} s"
        await user.sync_once(1000)


# -- 3. the workspace cannot be written --------------------------------------------------------------


async def test_an_unwritable_workspace_gets_a_notice_and_loses_nothing(
    bot: BotUnderTest, new_user: NewUser, tmp_path: Path
) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    # We run as root, which ignores permission bits: a regular FILE where the room's inbox directory goes
    # makes every write there fail, for root too.
    blocker = bot.workspace_dir / room_inbox(user.user_id, chat)
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a directory")
    upload = tmp_path / "report.pdf"
    upload.write_bytes(b"%PDF-1.4 pretend report\n" * 100)

    refused = await user.send_file(chat, upload, mimetype="application/pdf")
    notice = await user.wait_for(reply_from(bot, chat, refused), WAIT)
    assert notice["content"]["msgtype"] == "m.notice", notice["content"]
    assert WORKSPACE_UNAVAILABLE in body(notice) and "report.pdf" in body(notice), body(notice)
    text = await user.send_text(chat, "the conversation goes on")

    # Writable again: the same file sent again is kept, and goes with the next message.
    blocker.unlink()
    again = await user.send_file(chat, upload, mimetype="application/pdf")
    with_file = await user.send_text(chat, "now with the file")
    room = await settled_timeline(user, bot, chat, (refused, text, again, with_file))

    assert len(room.replies_to(refused)) == 1, f"the refused file must get one notice:\n{room.describe([refused])}"
    assert_answered_once(room, {text: "the conversation goes on"})
    assert len(room.replies_to(again)) == 1 and "Got" in body(room.replies_to(again)[0]), room.describe([again])
    (answer,) = room.replies_to(with_file)
    assert room.shown(answer).startswith("now with the file\nreceived: "), room.shown(answer)
    assert room.shown(answer).count("received: ") == 1, f"only the file kept goes to the agent: {room.shown(answer)}"

    row = inbox_row(bot, refused)
    assert row["kind"] == "file" and row["done"], f"the refused file is left pending (it would be retried): {row}"
    leftovers = [
        p.name for p in (bot.workspace_dir / room_inbox(user.user_id, chat)).iterdir() if p.name.startswith(".")
    ]
    assert not leftovers, f"partial files left behind: {leftovers}"


# -- 4. a flood --------------------------------------------------------------------------------------


async def test_a_flood_gets_one_notice_and_spares_the_agent(start_bot: BotStarter, new_user: NewUser) -> None:
    bot = start_bot(SURFACES_RATE_LIMIT_BURST="3", SURFACES_RATE_LIMIT_PER_S="0.01")
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    requests_before = agent_requests(bot)

    texts = [f"flood {n}" for n in range(10)]
    sent = [await user.send_text(chat, text) for text in texts]
    # The first three are answered, the fourth gets the notice (one room: handled in order); the rest are
    # refused quietly, and marked done.
    await eventually(lambda: done_count(bot, sent) == len(sent), WAIT, "all ten messages marked done in the inbox")
    room = await settled_timeline(user, bot, chat, sent[:4])

    report = room.describe(sent)
    assert all(len(room.replies_to(e)) <= 1 for e in sent), f"a message got more than one reply:\n{report}"
    replies = [r for e in sent for r in room.replies_to(e)]
    notices = [r for r in replies if SLOW_DOWN in body(r)]
    answers = [room.shown(r) for r in replies if r not in notices]
    assert len(notices) == 1, f"expected exactly one flood notice:\n{report}"
    assert answers == texts[:3], f"expected exactly the first three echoed:\n{report}"
    assert replied_to(notices[0]) == sent[3], f"the notice should answer the first message over the limit:\n{report}"
    assert agent_requests(bot) - requests_before == 3, "the agent was sent more than the three admitted messages"
