"""The contract every UnitOfWork implementation keeps: spaces, rooms and transactions.
Runs over the fake, SQLite and PostgreSQL (see `uow_factory`)."""

from dataclasses import asdict
from typing import TypeVar

import pytest
from sqlalchemy.exc import IntegrityError

from domain.model.context import ChatContext
from domain.model.ids import AgentId, PlatformChatId, RoomId, UserId
from domain.model.room import ChatRoom, RoomStatus
from domain.model.space import UserSpace
from ports.unit_of_work import UnitOfWorkFactory
from tests.unit.fakes.unit_of_work import FakeConflictError

# What "the store refused the commit" looks like per implementation; the ports name no
# error of their own yet.
CONFLICT = (IntegrityError, FakeConflictError)
ALICE, BOB = UserId("@alice:example.org"), UserId("@bob:example.org")
T = TypeVar("T")


def present(value: T | None) -> T:
    assert value is not None
    return value


def a_space(owner: UserId = ALICE, space_id: str | None = "!space-a:example.org") -> UserSpace:
    return UserSpace(
        owner=owner,
        display_name="Alice Ö",
        space_id=None if space_id is None else RoomId(space_id),
        chats_created=2,
    )


def a_room(room_id: str = "!r1:example.org", owner: UserId = ALICE, chat: str = "pc-1", number: int = 1) -> ChatRoom:
    return ChatRoom(
        room_id=RoomId(room_id),
        owner=owner,
        space_id=RoomId("!space-a:example.org"),
        chat_number=number,
        name=f"Chat {number}",
        context=ChatContext(agent_id=AgentId("echo"), platform_chat_id=PlatformChatId(chat)),
        status=RoomStatus.ARCHIVED,
        message_count=7,
        archived_notice_sent=True,
    )


async def test_space_round_trips_every_field(uow_factory: UnitOfWorkFactory) -> None:
    provisioned, half_way = a_space(), a_space(owner=BOB, space_id=None)
    async with uow_factory() as uow:
        await uow.spaces.add(provisioned)
        await uow.spaces.add(half_way)
        await uow.commit()
    async with uow_factory() as uow:
        assert asdict(present(await uow.spaces.get(ALICE))) == asdict(provisioned)
        assert asdict(present(await uow.spaces.get(BOB))) == asdict(half_way)
        assert await uow.spaces.get(UserId("@nobody:example.org")) is None


async def test_saved_space_keeps_its_changes(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.spaces.add(a_space(space_id=None))
        await uow.commit()
    async with uow_factory() as uow:
        space = present(await uow.spaces.get(ALICE))
        space.space_id = RoomId("!late:example.org")
        assert space.next_chat_number() == 3
        await uow.spaces.save(space)
        await uow.commit()
    async with uow_factory() as uow:
        assert asdict(present(await uow.spaces.get(ALICE))) == asdict(space)


async def test_list_returns_every_space_by_owner(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.spaces.add(a_space(owner=BOB, space_id="!space-b:example.org"))
        await uow.spaces.add(a_space())
        await uow.commit()
    async with uow_factory() as uow:
        assert [space.owner for space in await uow.spaces.list()] == [ALICE, BOB]


async def test_room_round_trips_every_field(uow_factory: UnitOfWorkFactory) -> None:
    room = a_room()
    async with uow_factory() as uow:
        await uow.rooms.add(room)
        await uow.commit()
    async with uow_factory() as uow:
        assert asdict(present(await uow.rooms.get(room.room_id))) == asdict(room)
        assert await uow.rooms.get(RoomId("!unknown:example.org")) is None


async def test_saved_room_keeps_rotated_context_and_status(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.rooms.add(a_room())
        await uow.commit()
    async with uow_factory() as uow:
        room = present(await uow.rooms.get(RoomId("!r1:example.org")))
        room.context = room.context.rotated()
        room.status = RoomStatus.ACTIVE
        room.name = "Renamed"
        room.message_count += 1
        room.archived_notice_sent = False
        await uow.rooms.save(room)
        await uow.commit()
    async with uow_factory() as uow:
        assert asdict(present(await uow.rooms.get(room.room_id))) == asdict(room)


async def test_count_answer_adds_one_and_ignores_unknown_rooms(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.rooms.add(a_room())
        await uow.commit()
    async with uow_factory() as uow:
        await uow.rooms.count_answer(RoomId("!r1:example.org"))
        await uow.rooms.count_answer(RoomId("!r1:example.org"))
        await uow.rooms.count_answer(RoomId("!unknown:example.org"))
        await uow.commit()
    async with uow_factory() as uow:
        assert present(await uow.rooms.get(RoomId("!r1:example.org"))).message_count == 7 + 2
        assert await uow.rooms.get(RoomId("!unknown:example.org")) is None


async def test_count_answer_not_committed_is_not_kept(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.rooms.add(a_room())
        await uow.commit()
    async with uow_factory() as uow:
        await uow.rooms.count_answer(RoomId("!r1:example.org"))
    async with uow_factory() as uow:
        assert present(await uow.rooms.get(RoomId("!r1:example.org"))).message_count == 7


async def test_entity_changed_without_save_is_not_kept(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.rooms.add(a_room())
        await uow.commit()
    async with uow_factory() as uow:
        room = present(await uow.rooms.get(RoomId("!r1:example.org")))
        room.name = "Changed in memory only"
        await uow.commit()
    async with uow_factory() as uow:
        assert present(await uow.rooms.get(room.room_id)).name == "Chat 1"


async def test_for_owner_returns_only_that_owners_rooms(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.rooms.add(a_room("!r2:example.org", chat="pc-2", number=2))
        await uow.rooms.add(a_room("!b1:example.org", owner=BOB, chat="pc-b"))
        await uow.rooms.add(a_room("!r1:example.org", chat="pc-1", number=1))
        await uow.commit()
    async with uow_factory() as uow:
        assert [room.room_id for room in await uow.rooms.for_owner(ALICE)] == ["!r1:example.org", "!r2:example.org"]
        assert await uow.rooms.for_owner(UserId("@nobody:example.org")) == []


async def test_all_returns_every_room_by_owner_then_chat_number(uow_factory: UnitOfWorkFactory) -> None:
    active = a_room("!r1:example.org", chat="pc-1", number=1)
    active.status = RoomStatus.ACTIVE
    async with uow_factory() as uow:
        await uow.rooms.add(a_room("!b2:example.org", owner=BOB, chat="pc-b2", number=2))
        await uow.rooms.add(a_room("!r10:example.org", chat="pc-10", number=10))
        await uow.rooms.add(a_room("!b1:example.org", owner=BOB, chat="pc-b1", number=1))
        await uow.rooms.add(active)
        await uow.rooms.add(a_room("!r2:example.org", chat="pc-2", number=2))
        await uow.commit()
    async with uow_factory() as uow:
        rooms = await uow.rooms.all()
    ordered = ["!r1:example.org", "!r2:example.org", "!r10:example.org", "!b1:example.org", "!b2:example.org"]
    assert [room.room_id for room in rooms] == ordered
    assert [room.status for room in rooms].count(RoomStatus.ARCHIVED) == 4


async def test_all_is_empty_without_rooms(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.rooms.all() == []


async def test_second_room_with_same_platform_chat_id_fails_at_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.rooms.add(a_room("!r1:example.org", chat="pc-shared"))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.rooms.add(a_room("!r2:example.org", chat="pc-shared", number=2))
        with pytest.raises(CONFLICT):
            await uow.commit()
    async with uow_factory() as uow:
        assert await uow.rooms.get(RoomId("!r2:example.org")) is None


async def test_adding_an_existing_space_fails_at_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.spaces.add(a_space())
        await uow.commit()
    async with uow_factory() as uow:
        await uow.spaces.add(a_space(space_id="!other:example.org"))
        with pytest.raises(CONFLICT):
            await uow.commit()


async def test_nothing_is_kept_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.spaces.add(a_space())
        await uow.rooms.add(a_room())
        await uow.sync_state.set_token("s1")
    with pytest.raises(RuntimeError, match="boom"):
        async with uow_factory() as uow:
            await uow.spaces.add(a_space(owner=BOB))
            raise RuntimeError("boom")
    async with uow_factory() as uow:
        assert await uow.spaces.list() == []
        assert await uow.rooms.get(RoomId("!r1:example.org")) is None
        assert await uow.sync_state.get_token() is None


async def test_rollback_discards_only_what_came_after_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.spaces.add(a_space())
        await uow.commit()
        await uow.rooms.add(a_room())
        await uow.rollback()
        assert await uow.rooms.get(RoomId("!r1:example.org")) is None
        await uow.spaces.add(a_space(owner=BOB, space_id=None))
    async with uow_factory() as uow:
        assert [space.owner for space in await uow.spaces.list()] == [ALICE]


async def test_units_of_work_in_sequence_see_each_others_commits(uow_factory: UnitOfWorkFactory) -> None:
    first, second = uow_factory(), uow_factory()
    async with first:
        await first.rooms.add(a_room())
        await first.commit()
    async with second:
        room = present(await second.rooms.get(RoomId("!r1:example.org")))
        room.message_count = 42
        await second.rooms.save(room)
        await second.commit()
    async with first:
        assert present(await first.rooms.get(room.room_id)).message_count == 42


async def test_a_transaction_id_is_claimed_once_and_only_by_a_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.transactions.claim("txn-1")
        await uow.rollback()  # not taken in after all: the homeserver sends it again
    async with uow_factory() as uow:
        assert await uow.transactions.claim("txn-1")  # the rolled-back claim left nothing
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.transactions.claim("txn-1")  # a replay
        assert await uow.transactions.claim("txn-2")
