"""NioTopologyView: sync responses in, the domain's ObservedTopology out."""

import logging
from typing import Any

import pytest

from adapters.matrix.state_view import NioTopologyView
from domain.model.ids import AgentId, PlatformChatId, RoomId, UserId
from domain.model.observed import ObservedRoom, RoomRecord
from domain.model.room import RoomStatus
from tests.unit.matrix.sync_json import (
    ALICE,
    BOT,
    CHAT,
    SPACE,
    edit,
    joined,
    message,
    reply,
    room_record,
    state,
    sync,
)

OTHER = "!other:example.org"


async def observe(view: NioTopologyView, room_id: str) -> ObservedRoom:
    room = (await view.observe()).room(RoomId(room_id))
    assert room is not None, f"{room_id} not observed"
    return room


async def record_of(content: Any) -> RoomRecord | None:
    view = NioTopologyView()
    view.absorb(sync({CHAT: joined([state("dev.surfaces.room", content)])}), BOT)
    return (await observe(view, CHAT)).record


async def test_a_valid_room_record_is_parsed() -> None:
    assert await record_of(room_record(chat_id="C12", status="archived")) == RoomRecord(
        owner=UserId(ALICE),
        space_id=RoomId(SPACE),
        chat_number=12,
        agent_id=AgentId("echo"),
        platform_chat_id=PlatformChatId("pc-1"),
        status=RoomStatus.ARCHIVED,
    )


@pytest.mark.parametrize(
    "content",
    [
        room_record(owner=None),
        room_record(space_id=None),
        room_record(agent_id=None),
        room_record(platform_chat_id=None),
        room_record(status=None),
        room_record(chat_id=None),
        room_record(chat_id="C0"),
        room_record(chat_id="C"),
        room_record(chat_id="c1"),
        room_record(chat_id="C1x"),
        room_record(chat_id="C01"),
        room_record(chat_id=1),
        room_record(status="deleted"),
        room_record(status=["active"]),
        room_record(platform_chat_id=""),
        room_record(platform_chat_id=7),
        room_record(agent_id=""),
        room_record(owner="alice"),
        room_record(space_id="space"),
        [],
        "not a dict",
    ],
    ids=lambda c: repr(c)[:60],
)
async def test_a_malformed_room_record_reads_as_none_and_is_logged(
    content: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="adapters.matrix.room_view"):
        assert await record_of(content) is None
    (logged,) = [r for r in caplog.records if r.getMessage() == "room_state_malformed"]
    assert getattr(logged, "room_id", None) == CHAT


async def test_space_owner_name_and_links() -> None:
    view = NioTopologyView()
    space_state = [
        state("m.room.name", {"name": "Lambda — alice"}),
        state("dev.surfaces.space", {"owner": ALICE, "version": 1}),
        state("m.space.child", {"via": ["example.org"]}, CHAT),
        state("m.space.child", {}, OTHER),  # removed link
        state("m.space.child", {"via": []}, "!empty:example.org"),
        state("m.space.child", {"via": "example.org"}, "!notalist:example.org"),
    ]
    chat_state = [
        state("m.room.name", {"name": "Chat 1"}),
        state("m.space.parent", {"via": ["example.org"], "canonical": True}, SPACE),
        state("m.space.parent", {}, OTHER),
    ]
    view.absorb(sync({SPACE: joined(space_state), CHAT: joined(chat_state)}), BOT)

    space = await observe(view, SPACE)
    assert (space.name, space.space_owner, space.record) == ("Lambda — alice", UserId(ALICE), None)
    assert space.children == {RoomId(CHAT)}
    chat = await observe(view, CHAT)
    assert (chat.name, chat.space_owner, chat.children) == ("Chat 1", None, frozenset())
    assert chat.parents == {RoomId(SPACE)}


async def test_a_space_owner_that_is_not_a_user_id_reads_as_none() -> None:
    view = NioTopologyView()
    view.absorb(sync({SPACE: joined([state("dev.surfaces.space", {"owner": "alice"})])}), BOT)
    assert (await observe(view, SPACE)).space_owner is None


async def test_later_state_wins_across_state_timeline_and_syncs() -> None:
    view = NioTopologyView()
    view.absorb(
        sync(
            {
                SPACE: joined(
                    [state("m.room.name", {"name": "old"}), state("m.space.child", {"via": ["x"]}, CHAT)],
                    [state("m.room.name", {"name": "new"})],
                )
            }
        ),
        BOT,
    )
    assert (await observe(view, SPACE)).name == "new"
    view.absorb(sync({SPACE: joined(timeline=[state("m.space.child", {}, CHAT)])}, next_batch="s2"), BOT)
    space = await observe(view, SPACE)
    assert (space.name, space.children) == ("new", frozenset())  # state from the first sync is kept


async def test_a_rewritten_record_replaces_the_old_one_and_a_broken_one_clears_it() -> None:
    view = NioTopologyView()
    view.absorb(sync({CHAT: joined([state("dev.surfaces.room", room_record())])}), BOT)
    view.absorb(sync({CHAT: joined(timeline=[state("dev.surfaces.room", room_record(platform_chat_id="pc-2"))])}), BOT)
    record = (await observe(view, CHAT)).record
    assert record is not None and record.platform_chat_id == "pc-2"
    view.absorb(sync({CHAT: joined(timeline=[state("dev.surfaces.room", {})])}), BOT)  # e.g. redacted
    assert (await observe(view, CHAT)).record is None


async def test_state_with_another_state_key_is_not_the_room_record() -> None:
    view = NioTopologyView()
    view.absorb(sync({CHAT: joined([state("dev.surfaces.room", room_record(), state_key="x")])}), BOT)
    assert (await observe(view, CHAT)).record is None


async def test_a_left_room_is_dropped() -> None:
    view = NioTopologyView()
    view.absorb(sync({CHAT: joined([state("dev.surfaces.room", room_record())]), OTHER: joined()}), BOT)
    view.absorb(sync(leave=[CHAT], next_batch="s2"), BOT)
    assert [room.room_id for room in (await view.observe()).rooms] == [OTHER]


async def test_every_joined_room_is_observed_even_without_surfaces_state() -> None:
    view = NioTopologyView()
    view.absorb(sync({OTHER: joined([state("m.room.topic", {"topic": "x"})])}), BOT)
    assert await observe(view, OTHER) == ObservedRoom(room_id=RoomId(OTHER))


async def test_answered_holds_what_our_own_replies_point_at() -> None:
    view = NioTopologyView()
    asked, other = message("q1"), message("q2")
    timeline = [asked, other, reply(asked["event_id"]), reply(other["event_id"], sender=ALICE), reply("$gone")]
    view.absorb(sync({CHAT: joined(timeline=timeline)}), BOT)
    assert (await observe(view, CHAT)).answered == {asked["event_id"], "$gone"}
    view.absorb(sync({CHAT: joined(timeline=[reply("$later")])}, next_batch="s2"), BOT)
    assert (await observe(view, CHAT)).answered == {asked["event_id"], "$gone", "$later"}


async def test_recent_is_the_latest_timeline_of_texts_and_files_without_own_notices_or_edits() -> None:
    view = NioTopologyView()
    first = message("hello")
    timeline = [
        first,
        message("from the bot", sender=BOT),
        message("a notice", msgtype="m.notice"),
        edit(first["event_id"], "hello!"),
        message("an image", msgtype="m.image", url="mxc://example.org/x"),
        state("m.room.name", {"name": "renamed"}, sender=ALICE),
        message("second"),
    ]
    view.absorb(sync({CHAT: joined(timeline=timeline)}), BOT)
    recent = (await observe(view, CHAT)).recent
    # A file's body is its caption: an image named "an image" has none.
    assert [(t.event_id, t.body, t.sender) for t in recent] == [
        (first["event_id"], "hello", ALICE),
        (timeline[4]["event_id"], "", ALICE),
        (timeline[-1]["event_id"], "second", ALICE),
    ]
    assert {t.room_id for t in recent} == {CHAT}


async def test_recent_is_replaced_only_by_a_sync_with_timeline_events() -> None:
    view = NioTopologyView()
    view.absorb(sync({CHAT: joined(timeline=[message("one")])}), BOT)
    view.absorb(sync({CHAT: joined([state("m.room.name", {"name": "x"})])}, next_batch="s2"), BOT)
    assert [t.body for t in (await observe(view, CHAT)).recent] == ["one"]
    view.absorb(sync({CHAT: joined(timeline=[message("two")])}, next_batch="s3"), BOT)
    assert [t.body for t in (await observe(view, CHAT)).recent] == ["two"]
    view.absorb(sync({CHAT: joined(timeline=[reply("$x")])}, next_batch="s4"), BOT)
    assert (await observe(view, CHAT)).recent == ()


async def test_rooms_are_observed_in_a_stable_order() -> None:
    view = NioTopologyView()
    view.absorb(sync({OTHER: joined(), CHAT: joined(), SPACE: joined()}), BOT)
    assert [r.room_id for r in (await view.observe()).rooms] == sorted([OTHER, CHAT, SPACE])
