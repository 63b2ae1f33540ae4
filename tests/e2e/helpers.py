"""Steps and checks shared by the e2e tests: onboarding, asking the bot, reading state and the database."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from adapters.platform.echo import EMPTY_HISTORY
from tests.e2e.conftest import BotUnderTest
from tests.e2e.harness import Event, MatrixUser, Predicate

_T = TypeVar("_T")
StateMap = dict[tuple[str, str], dict[str, Any]]
Row = dict[str, Any]

ROOM_STATE = "dev.surfaces.room"
SPACE_STATE = "dev.surfaces.space"
WAIT = 30  # seconds, for anything that should happen


def bot_message_in(room_id: str, bot: BotUnderTest) -> Predicate:
    return lambda room, e: room == room_id and e["sender"] == bot.user_id and e["type"] == "m.room.message"


def state_of(events: list[Event], event_type: str, state_key: str = "") -> Event | None:
    for event in events:
        if event["type"] == event_type and event.get("state_key") == state_key:
            return event
    return None


def replies_to(event: Event, event_id: str) -> bool:
    relates = event.get("content", {}).get("m.relates_to", {})
    return isinstance(relates, dict) and relates.get("m.in_reply_to", {}).get("event_id") == event_id


def link_to(room_id: str) -> str:
    """How a room id appears inside a matrix.to link the bot posts."""
    return f"https://matrix.to/#/{quote(room_id, safe='')}"


async def onboard(user: MatrixUser, bot: BotUnderTest) -> tuple[str, str, str]:
    """Invites the bot to a DM; returns (dm, space, chat) with the user joined to both."""
    dm = await user.create_dm(bot.user_id)
    await user.wait_for(bot_message_in(dm, bot), WAIT)
    invited = {await user.wait_for_invite(WAIT), await user.wait_for_invite(WAIT)}
    for room_id in invited:
        await user.join(room_id)
    states = {room_id: await user.room_state(room_id) for room_id in invited}
    space = next(
        r for r, s in states.items() if (state_of(s, "m.room.create") or {})["content"].get("type") == "m.space"
    )
    (chat,) = invited - {space}
    return dm, space, chat


async def ask(user: MatrixUser, bot: BotUnderTest, room_id: str, text: str, timeout: float = WAIT) -> Event:
    """Sends `text` and returns the bot's reply to it (an event with m.in_reply_to that message)."""
    sent = await user.send_text(room_id, text)
    return await user.wait_for(reply_from(bot, room_id, sent), timeout)


def reply_from(bot: BotUnderTest, room_id: str, event_id: str) -> Predicate:
    return lambda room, e: room == room_id and e["sender"] == bot.user_id and replies_to(e, event_id)


def body(event: Event) -> str:
    return str(event["content"]["body"])


async def new_chat(user: MatrixUser, bot: BotUnderTest, from_room: str, name: str = "") -> str:
    """`!new [name]` in `from_room`; joins the room the bot invites to and returns its id."""
    answer = await ask(user, bot, from_room, f"!new {name}".strip())
    room_id = await user.wait_for_invite(WAIT)
    assert link_to(room_id) in body(answer), f"the answer does not link the new room: {body(answer)!r}"
    await user.join(room_id)
    return room_id


async def state_map(user: MatrixUser, room_id: str) -> StateMap:
    """The room's current state as {(type, state_key): content}."""
    return {(e["type"], e.get("state_key", "")): e["content"] for e in await user.room_state(room_id)}


async def surfaces_room(user: MatrixUser, room_id: str) -> dict[str, Any]:
    """The content of the room's dev.surfaces.room state event."""
    content = (await state_map(user, room_id)).get((ROOM_STATE, ""))
    assert content is not None, f"{room_id} has no {ROOM_STATE} state event"
    return content


async def room_name(user: MatrixUser, room_id: str) -> str | None:
    name = (await state_map(user, room_id)).get(("m.room.name", ""), {}).get("name")
    return None if name is None else str(name)


def db_rows(bot: BotUnderTest, sql: str, *params: object) -> list[Row]:
    """Rows of a query on the bot's SQLite index, opened read-only."""
    uri = f"{bot.db_path.as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(sql, params)]


def room_row(bot: BotUnderTest, room_id: str) -> Row:
    rows = db_rows(bot, "SELECT * FROM rooms WHERE room_id = ?", room_id)
    assert len(rows) == 1, f"expected one rooms row for {room_id}, found {rows}"
    return rows[0]


def owner_rows(bot: BotUnderTest, owner: str) -> dict[str, list[Row]]:
    """Everything the index holds about one person, to compare before and after."""
    return {
        table: db_rows(bot, f"SELECT * FROM {table} WHERE owner = ? ORDER BY 1, 2", owner)
        for table in ("spaces", "rooms", "snapshots")
    }


async def eventually(check: Callable[[], _T | None], timeout: float = WAIT, what: str = "condition") -> _T:
    """Polls `check` until it returns something other than None (or False)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s (last: {result!r})")
        await asyncio.sleep(0.2)


def history_lines(*texts: str) -> str:
    """What the echo agent's `!!history` answers for these texts."""
    return "\n".join(f"{number}. {text}" for number, text in enumerate(texts, 1)) or EMPTY_HISTORY
