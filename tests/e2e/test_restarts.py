"""Issue 4: restarts with and without the database; every user message is answered exactly once.

The bot runs as a real process against the real Synapse; it is killed (SIGKILL), stopped (SIGTERM),
and restarted on the same data directory. Answers are counted per user event from the room's
server-side timeline (`/messages`): a bot event whose `m.in_reply_to` points at the user event.
No timing is asserted; every wait is generous and a settle period precedes each "exactly once".
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from tests.e2e.conftest import BotUnderTest, NewUser
from tests.e2e.harness import Event, MatrixUser
from tests.e2e.helpers import (
    ROOM_STATE,
    body,
    db_rows,
    new_chat,
    onboard,
    reply_from,
    room_row,
    state_map,
    surfaces_room,
)

WAIT = 60  # seconds: a restart plus a catch-up of many answers
SETTLE = 2.0  # seconds: a duplicate would follow the first answer quickly; give it the time to show
CHILD = "m.space.child"
PARENT = "m.space.parent"


# -- counting answers --------------------------------------------------------------------------------


def _replied_to(event: Event) -> str | None:
    relates = event.get("content", {}).get("m.relates_to", {})
    target = relates.get("m.in_reply_to", {}).get("event_id") if isinstance(relates, dict) else None
    return target if isinstance(target, str) else None


async def answer_counts(user: MatrixUser, bot: BotUnderTest, room_id: str, limit: int = 300) -> Counter[str]:
    """How many bot events in the room's timeline (server side) reply to each user event."""
    events = await user.messages(room_id, limit)
    return Counter(target for e in events if e["sender"] == bot.user_id and (target := _replied_to(e)) is not None)


async def wait_answered_once(user: MatrixUser, bot: BotUnderTest, asked: dict[str, str]) -> None:
    """`asked` maps user event id -> room id. Waits for an answer to each, settles, then asserts exactly one."""
    for event_id, room_id in asked.items():
        await user.wait_for(reply_from(bot, room_id, event_id), WAIT)
    await asyncio.sleep(SETTLE)
    await user.sync_once()
    counts: Counter[str] = Counter()
    for room_id in set(asked.values()):
        counts.update(await answer_counts(user, bot, room_id))
    assert_each_once(counts, asked)


def assert_each_once(counts: Counter[str], asked: Iterable[str]) -> None:
    asked = list(asked)
    missing = [event_id for event_id in asked if counts[event_id] == 0]
    twice = {event_id: counts[event_id] for event_id in asked if counts[event_id] > 1}
    assert not missing and not twice, f"unanswered: {missing}; answered more than once: {twice}"


# -- the bot's own view ------------------------------------------------------------------------------


async def as_bot(bot: BotUnderTest) -> MatrixUser:
    """A second session of the bot's account (a new device): for setting up damage and reading its rooms."""
    homeserver = bot.env["SURFACES_HOMESERVER_URL"]
    return await MatrixUser.login(homeserver, bot.user_id, bot.password)


async def joined_rooms(user: MatrixUser) -> set[str]:
    response = await user.client.joined_rooms()
    rooms = getattr(response, "rooms", None)
    assert rooms is not None, f"joined_rooms of {user.user_id} failed: {response}"
    return set(rooms)


def children(space_state: dict[tuple[str, str], dict[str, Any]]) -> set[str]:
    """Rooms the Space lists as children (an `m.space.child` with a `via`)."""
    return {key for (kind, key), content in space_state.items() if kind == CHILD and content.get("via")}


def restart(bot: BotUnderTest) -> None:
    bot.process.start()
    bot.process.wait_ready(WAIT)


def stop(bot: BotUnderTest) -> None:
    assert bot.process.stop() == 0, f"the bot did not exit cleanly on SIGTERM:\n{bot.process.log_tail()}"


def log_events_since_last_start(bot: BotUnderTest) -> list[dict[str, Any]]:
    """The JSON log lines the bot wrote since the harness last started it."""
    text = bot.process.log_text()
    marker = text.rfind("===== harness: start #")
    events = []
    for line in text[marker:].splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            events.append(parsed)
    return events


# -- 1. kill -9 with answers in flight ---------------------------------------------------------------


async def _user_with_four_rooms(user: MatrixUser, bot: BotUnderTest) -> list[str]:
    _, _, chat = await onboard(user, bot)
    rooms = [chat]
    for _ in range(3):
        rooms.append(await new_chat(user, bot, chat))
    return rooms


async def test_kill_9_with_answers_in_flight_loses_and_duplicates_nothing(bot: BotUnderTest, new_user: NewUser) -> None:
    users = [await new_user() for _ in range(5)]
    rooms = await asyncio.gather(*(_user_with_four_rooms(user, bot) for user in users))
    # Half the answers take 2 s (echo directive), so they are surely still in flight at the kill.
    plan = [
        (user, room, f"!!sleep 2 slow {n}-{r}" if (n + r) % 2 else f"fast {n}-{r}")
        for n, user in enumerate(users)
        for r, room in enumerate(rooms[n])
    ]

    event_ids = await asyncio.gather(*(user.send_text(room, text) for user, room, text in plan))
    await users[0].wait_for(reply_from(bot, plan[0][1], event_ids[0]), WAIT)  # the first, a fast one
    bot.process.kill()

    answered_before: Counter[str] = Counter()
    for user, room, _ in plan:
        answered_before.update(await answer_counts(user, bot, room))
    in_flight = [event_id for event_id in event_ids if not answered_before[event_id]]
    print(f"unanswered when killed: {len(in_flight)} of {len(event_ids)}")
    assert in_flight, "every answer was out before the kill (did `!!sleep 2` not delay them?): nothing was in flight"

    restart(bot)

    asked = [
        {event_id: room for (owner, room, _), event_id in zip(plan, event_ids, strict=True) if owner is user}
        for user in users
    ]
    await asyncio.gather(*(wait_answered_once(user, bot, mine) for user, mine in zip(users, asked, strict=True)))
    for (user, room, text), event_id in zip(plan, event_ids, strict=True):
        reply = await user.wait_for(reply_from(bot, room, event_id), WAIT)
        assert body(reply) == text.removeprefix("!!sleep 2 ")


# -- 2. the database lost ----------------------------------------------------------------------------


def delete_database(bot: BotUnderTest) -> None:
    session = bot.data_dir / "session.json"
    assert session.exists(), "the bot keeps its session in the data dir"
    removed = []
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = bot.db_path.with_name(bot.db_path.name + suffix)
        if path.exists():
            path.unlink()
            removed.append(path.name)
    assert "surfaces.db" in removed, f"no database found at {bot.db_path}"


async def test_database_loss_rebuilds_from_matrix_and_answers_what_arrived_while_down(
    bot: BotUnderTest, new_user: NewUser
) -> None:
    user = await new_user()
    dm, space, chat_1 = await onboard(user, bot)
    chat_2 = await new_chat(user, bot, chat_1)
    earlier = await user.send_text(chat_1, "before the database is lost")
    await user.wait_for(reply_from(bot, chat_1, earlier), WAIT)

    chats = (chat_1, chat_2)
    chat_ids = {room: (await surfaces_room(user, room))["platform_chat_id"] for room in chats}
    assert {room: room_row(bot, room)["platform_chat_id"] for room in chats} == chat_ids
    space_children = children(await state_map(user, space))
    assert space_children == set(chats)
    bot_session = await as_bot(bot)
    try:
        bot_rooms = await joined_rooms(bot_session)
    finally:
        await bot_session.close()
    assert {dm, space, *chats} <= bot_rooms

    stop(bot)
    delete_database(bot)
    while_down = {await user.send_text(room, f"while the database is gone {n}"): room for room in chats for n in (1, 2)}
    restart(bot)

    await wait_answered_once(user, bot, {earlier: chat_1, **while_down})
    for event_id, room in while_down.items():
        reply = await user.wait_for(reply_from(bot, room, event_id), WAIT)
        assert body(reply).startswith("while the database is gone")

    # Nothing new: no invite, no new room on the bot's side, the Space lists the same rooms.
    assert await user.invites_pending() == []
    bot_session = await as_bot(bot)
    try:
        assert await joined_rooms(bot_session) == bot_rooms
    finally:
        await bot_session.close()
    assert children(await state_map(user, space)) == space_children
    assert db_rows(bot, "SELECT space_id FROM spaces WHERE owner = ?", user.user_id) == [{"space_id": space}]
    # Every room kept its upstream conversation, in Matrix and in the rebuilt index.
    for room in chats:
        assert (await surfaces_room(user, room))["platform_chat_id"] == chat_ids[room]
        assert room_row(bot, room)["platform_chat_id"] == chat_ids[room]
        shown = await user.wait_for(reply_from(bot, room, await user.send_text(room, "!context")), WAIT)
        assert chat_ids[room] in body(shown), f"!context in {room} does not show {chat_ids[room]}: {body(shown)!r}"


# -- 3. a pile of messages while down ----------------------------------------------------------------


async def test_thirty_messages_sent_while_down_are_each_answered_once(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    stop(bot)

    texts = [f"sent while down {n}" for n in range(30)]
    asked = {await user.send_text(chat, text): chat for text in texts}
    restart(bot)

    await wait_answered_once(user, bot, asked)
    for event_id, text in zip(asked, texts, strict=True):
        assert body(await user.wait_for(reply_from(bot, chat, event_id), WAIT)) == text


# -- 4. a child link removed by hand; an unknown room left alone -------------------------------------


async def test_a_child_link_removed_by_hand_is_restored_and_reported(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    dm, space, chat = await onboard(user, bot)
    dm_before = await state_map(user, dm)
    stop(bot)

    bot_session = await as_bot(bot)
    try:
        await bot_session.put_state(space, CHILD, {}, state_key=chat)
    finally:
        await bot_session.close()
    assert chat not in children(await state_map(user, space))
    restart(bot)

    space_state = await state_map(user, space)
    assert space_state[(CHILD, chat)].get("via"), f"the link was not restored: {space_state[(CHILD, chat)]}"
    logged = log_events_since_last_start(bot)
    findings = [e["report"] for e in logged if e.get("event") == "reconciliation_findings"]
    assert findings, "no reconciliation_findings logged"
    repair = {"kind": "child_linked", "room_id": chat, "space_id": space}
    assert repair in findings[0]["repaired"], f"the report does not name the repair: {findings[0]}"
    assert dm in findings[0]["untouched"], f"the DM is not reported untouched: {findings[0]}"
    assert any(e.get("event") == "link_repaired" and e.get("room_id") == chat for e in logged)

    # The DM (user-made, no surfaces state) was not turned into a chat nor linked anywhere.
    dm_after = await state_map(user, dm)
    assert (ROOM_STATE, "") not in dm_after
    assert not [key for key in dm_after if key[0] == PARENT]
    assert (CHILD, dm) not in space_state
    assert {k: v for k, v in dm_after.items() if k[0] != "m.room.member"} == {
        k: v for k, v in dm_before.items() if k[0] != "m.room.member"
    }
    assert db_rows(bot, "SELECT room_id FROM rooms WHERE room_id = ?", dm) == []
    # And the restored chat still works.
    answer = await user.wait_for(reply_from(bot, chat, await user.send_text(chat, "still here")), WAIT)
    assert body(answer) == "still here"


# -- 6. SIGTERM while the agent is answering ---------------------------------------------------------


async def test_sigterm_during_an_answer_delivers_it_exactly_once(bot: BotUnderTest, new_user: NewUser) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)

    late = await user.send_text(chat, "!!sleep 3 late")
    await asyncio.sleep(1)  # the agent is now inside its 3 s answer
    await asyncio.to_thread(stop, bot)
    delivered_before_exit = (await answer_counts(user, bot, chat))[late]
    print(f"answers delivered before exit: {delivered_before_exit}")
    restart(bot)

    await wait_answered_once(user, bot, {late: chat})
    assert body(await user.wait_for(reply_from(bot, chat, late), WAIT)) == "late"
