"""Issue 17: reconciliation and the timeline catch-up as background work in appservice mode, on a real Synapse.

The index is broken while the bot is stopped (a chat's room row and the person's Space row deleted from its
PostgreSQL database): `/ready` comes first, and the index is repaired afterwards by the background pass, which
`surfaces reconcile --dry-run` also reports in this mode. And a message whose inbox row is lost after the
homeserver delivered it (the bot killed while answering) is answered from the room's timeline. No timing is
asserted: the order of the log lines is.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bootstrap.homeserver import LocalSynapse
from tests.e2e.conftest import USER_PASSWORD, BotUnderTest
from tests.e2e.harness import REPO_ROOT, MatrixUser
from tests.e2e.harness.request_log_proxy import RequestLogProxy
from tests.e2e.helpers import ask, body, onboard, reply_from
from tests.e2e.test_appservice import appservice_bot, bot_database  # noqa: F401 - fixtures of its appservice bot

WAIT = 60  # seconds: a restart, a lease lapsing (SURFACES_LEASE_S, 10 s) and a pass
AppserviceBot = tuple[BotUnderTest, LocalSynapse, RequestLogProxy]
# What a room's row holds that Matrix holds too (`dev.surfaces.room`, `m.room.name`): what reconciliation restores.
ROUTING = (
    "SELECT room_id, owner, space_id, chat_number, name, agent_id, platform_chat_id, status FROM rooms"
    " WHERE room_id = :r"
)


async def query(bot: BotUnderTest, sql: str, **params: object) -> list[dict[str, Any]]:
    engine = create_async_engine(bot.env["SURFACES_DATABASE_URL"], poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(sql), params)
            return [dict(row._mapping) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


def log_events_since_last_start(bot: BotUnderTest) -> list[dict[str, Any]]:
    text_ = bot.process.log_text()
    events = []
    for line in text_[text_.rfind("===== harness: start #") :].splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            events.append(parsed)
    return events


def names(events: list[dict[str, Any]]) -> list[str]:
    return [str(e.get("event")) for e in events]


async def restart(bot: BotUnderTest) -> None:
    bot.process.start()
    await asyncio.to_thread(bot.process.wait_ready, WAIT)  # the proxy runs on this loop: it must keep serving


async def new_user(synapse: LocalSynapse, name: str) -> MatrixUser:
    user_id = synapse.register(f"{name}-{os.urandom(4).hex()}", USER_PASSWORD)
    return await MatrixUser.login(synapse.url, user_id, USER_PASSWORD)


def dry_run(bot: BotUnderTest) -> dict[str, Any]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SURFACES_")}
    done = subprocess.run(
        ("uv", "run", "--no-sync", "surfaces", "reconcile", "--dry-run"),
        cwd=REPO_ROOT,
        env={**inherited, **bot.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    report: dict[str, Any] = json.loads(done.stdout)
    return report


async def test_a_broken_index_is_repaired_in_the_background_after_ready(
    appservice_bot: AppserviceBot,  # noqa: F811 - the fixture imported above
) -> None:
    bot, synapse, _ = appservice_bot
    user = await new_user(synapse, "broken")
    try:
        dm, space, chat = await onboard(user, bot)
        assert body(await ask(user, bot, chat, "before")) == "before"
        assert bot.process.stop() == 0
        room_before = await query(bot, ROUTING, r=chat)
        await query(bot, "DELETE FROM rooms WHERE room_id = :r", r=chat)
        await query(bot, "DELETE FROM spaces WHERE owner = :o", o=user.user_id)

        report = await asyncio.to_thread(dry_run, bot)  # the CLI in appservice mode: it reports, changes nothing
        assert report["dry_run"] is True and chat in report["rooms_restored"] and space in report["spaces_restored"]
        assert dm in report["untouched"], report
        assert await query(bot, "SELECT * FROM rooms WHERE room_id = :r", r=chat) == []

        await restart(bot)
        rows = await wait_rows(bot, ROUTING, r=chat)
        assert rows == room_before  # message_count is not in Matrix: it restarts from 0
        spaces = await wait_rows(bot, "SELECT space_id FROM spaces WHERE owner = :o", o=user.user_id)
        assert spaces == [{"space_id": space}]

        logged = log_events_since_last_start(bot)
        order = names(logged)
        assert "ready" in order and "reconciled" in order, order
        assert order.index("ready") < order.index("observed") < order.index("reconciled"), order
        (reconciled,) = [e for e in logged if e.get("event") == "reconciled"]
        assert reconciled["rooms_restored"] >= 1 and reconciled["spaces_restored"] >= 1, reconciled
        assert reconciled["rooms_seen"] >= 3, reconciled  # the DM, the Space, the chat
        assert body(await ask(user, bot, chat, "after")) == "after"
    finally:
        await user.close()


async def wait_rows(bot: BotUnderTest, sql: str, **params: object) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        rows = await query(bot, sql, **params)
        if rows or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.3)


async def test_a_message_whose_inbox_row_was_lost_is_answered_from_the_timeline(
    appservice_bot: AppserviceBot,  # noqa: F811 - the fixture imported above
) -> None:
    bot, synapse, _ = appservice_bot
    user = await new_user(synapse, "lost")
    try:
        _, _, chat = await onboard(user, bot)
        asked = await user.send_text(chat, "!!sleep 5 lost with its inbox row")
        # Delivered and recorded (the transaction is acknowledged: the homeserver never sends it again), not answered.
        await wait_rows(bot, "SELECT event_id FROM inbox WHERE event_id = :e", e=asked)
        bot.process.kill()
        await query(bot, "DELETE FROM inbox WHERE event_id = :e", e=asked)
        assert (await user_answers(user, bot, chat)).get(asked, 0) == 0, "answered before the kill: nothing to test"

        await restart(bot)
        reply = await user.wait_for(reply_from(bot, chat, asked), WAIT)
        assert body(reply) == "lost with its inbox row"
        found = [e for e in log_events_since_last_start(bot) if e.get("event") == "catch_up_found"]
        assert found and found[0]["from_timelines"] >= 1, found
        await asyncio.sleep(2)  # a second answer would follow the first quickly
        assert (await user_answers(user, bot, chat))[asked] == 1
    finally:
        await user.close()


async def user_answers(user: MatrixUser, bot: BotUnderTest, room_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in await user.messages(room_id, 100):
        relates = event.get("content", {}).get("m.relates_to", {})
        target = relates.get("m.in_reply_to", {}).get("event_id") if isinstance(relates, dict) else None
        if event["sender"] == bot.user_id and isinstance(target, str):
            counts[target] = counts.get(target, 0) + 1
    return counts
