"""Issue 4 acceptance 5: `surfaces reconcile --dry-run` prints the report and changes nothing.

The bot is stopped, a Space's `m.space.child` link is removed by hand (as the bot, from a second
session), and the command runs as an operator would run it: `uv run surfaces reconcile --dry-run`
with the bot's SURFACES_* environment. Matrix state and the whole SQLite database are compared
before and after.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
from typing import Any

from tests.e2e.conftest import BotUnderTest, NewUser
from tests.e2e.harness import REPO_ROOT, MatrixUser
from tests.e2e.helpers import new_chat, onboard, state_map

CHILD = "m.space.child"
COMMAND = ("uv", "run", "--no-sync", "surfaces", "reconcile", "--dry-run")


def database_dump(bot: BotUnderTest) -> list[str]:
    """Every table's schema and rows, as SQL: identical dumps mean an unchanged database."""
    uri = f"{bot.db_path.as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        return list(db.iterdump())


def kept_session(bot: BotUnderTest) -> dict[str, str]:
    """The session the bot keeps in its data dir (token and device id)."""
    return dict(json.loads((bot.data_dir / "session.json").read_text()))


def run_dry_run(bot: BotUnderTest) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SURFACES_")}
    return subprocess.run(
        COMMAND,
        cwd=REPO_ROOT,
        env={**inherited, **bot.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def unlink_as_bot(bot: BotUnderTest, space: str, room_id: str) -> None:
    """Removes the Space's child link to `room_id` the way a person with the bot's account would."""
    session = await MatrixUser.login(bot.env["SURFACES_HOMESERVER_URL"], bot.user_id, bot.password)
    try:
        await session.put_state(space, CHILD, {}, state_key=room_id)
    finally:
        await session.close()


async def states(user: MatrixUser, rooms: list[str]) -> dict[str, Any]:
    return {room: await state_map(user, room) for room in rooms}


async def test_reconcile_dry_run_reports_a_missing_link_and_changes_nothing(
    bot: BotUnderTest, new_user: NewUser
) -> None:
    user = await new_user()
    dm, space, chat_1 = await onboard(user, bot)
    chat_2 = await new_chat(user, bot, chat_1)
    assert bot.process.stop() == 0
    await unlink_as_bot(bot, space, chat_1)

    rooms = [dm, space, chat_1, chat_2]
    state_before = await states(user, rooms)
    assert state_before[space][(CHILD, chat_1)] == {}
    dump_before = database_dump(bot)
    session_before = kept_session(bot)

    result = await asyncio.to_thread(run_dry_run, bot)

    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"stdout is not the JSON report:\n{result.stdout}\nstderr:\n{result.stderr}") from None
    assert report["dry_run"] is True
    assert {"kind": "child_linked", "room_id": chat_1, "space_id": space} in report["repaired"], report
    assert [r for r in report["repaired"] if r["room_id"] == chat_2] == [], f"chat 2 is intact: {report}"
    assert dm in report["untouched"], report
    assert report["rooms_seen"] >= 4, report  # the DM, the Space and both chats

    # Nothing changed: not the Space (the link is still missing), not any room, not the database.
    state_after = await states(user, rooms)
    assert state_after[space][(CHILD, chat_1)] == {}
    assert state_after == state_before
    assert database_dump(bot) == dump_before
    session_after = kept_session(bot)  # compared without printing the token
    assert session_after["device_id"] == session_before["device_id"], "the dry run logged in again"
    assert session_after == session_before, "the dry run rewrote the kept session"
