"""Reconciliation rebuilds the index from what Matrix says, repairs links and leaves unknown rooms alone."""

import dataclasses

from domain.model.ids import AgentId, EventId, PlatformChatId, RoomId, UserId
from domain.model.messages import IncomingText
from domain.model.observed import ObservedRoom, ObservedTopology, RoomRecord
from domain.model.reconciliation import RepairKind
from domain.model.room import RoomStatus
from domain.services.find_unanswered import FindUnanswered
from domain.services.reconcile_topology import ReconcileTopology
from tests.unit.fakes.network import FakeChatTopology, FakeTopologyReader
from tests.unit.fakes.unit_of_work import FakeUnitOfWorkFactory

ALICE = UserId("@alice:example.org")
SPACE = RoomId("!space")
ROOM_A, ROOM_B, LOBBY = RoomId("!a"), RoomId("!b"), RoomId("!lobby")


def record(number: int, chat_id: str, status: RoomStatus = RoomStatus.ACTIVE) -> RoomRecord:
    return RoomRecord(
        owner=ALICE,
        space_id=SPACE,
        chat_number=number,
        agent_id=AgentId("echo"),
        platform_chat_id=PlatformChatId(chat_id),
        status=status,
    )


def healthy_topology() -> ObservedTopology:
    return ObservedTopology(
        rooms=(
            ObservedRoom(room_id=SPACE, name="Lambda — Alice", space_owner=ALICE, children=frozenset({ROOM_A, ROOM_B})),
            ObservedRoom(room_id=ROOM_A, name="Chat 1", record=record(1, "pc-a"), parents=frozenset({SPACE})),
            ObservedRoom(room_id=ROOM_B, name="Taxes", record=record(3, "pc-b"), parents=frozenset({SPACE})),
            ObservedRoom(room_id=LOBBY, name=None),
        )
    )


def wire(
    topology: ObservedTopology, uow: FakeUnitOfWorkFactory | None = None
) -> tuple[FakeUnitOfWorkFactory, FakeChatTopology, ReconcileTopology]:
    uow, network = uow or FakeUnitOfWorkFactory(), FakeChatTopology()
    return uow, network, ReconcileTopology(uow, FakeTopologyReader(topology), network)


async def test_an_empty_database_is_rebuilt_from_matrix_state() -> None:
    uow, network, reconcile = wire(healthy_topology())
    report = await reconcile.execute()

    assert sorted(report.rooms_restored) == [ROOM_A, ROOM_B] and report.spaces_restored == [SPACE]
    assert report.untouched == [LOBBY] and report.repaired == [] and report.conflicts == []
    async with uow() as unit:
        space = await unit.spaces.get(ALICE)
        rooms = await unit.rooms.for_owner(ALICE)
        lobby = await unit.rooms.get(LOBBY)
    assert space is not None and space.space_id == SPACE and space.display_name == "Alice"
    assert space.chats_created == 3, "the counter must continue after the highest chat number"
    assert [(r.room_id, r.name, r.context.platform_chat_id) for r in rooms] == [
        (ROOM_A, "Chat 1", "pc-a"),
        (ROOM_B, "Taxes", "pc-b"),
    ]
    assert lobby is None, "an unknown room never becomes a chat"
    assert network.children == {} and network.room_state == {}


async def test_a_second_run_restores_nothing() -> None:
    _, _, reconcile = wire(healthy_topology())
    await reconcile.execute()
    again = await reconcile.execute()
    assert again.rooms_restored == [] and again.spaces_restored == [] and again.repaired == []


async def test_matrix_wins_over_a_stale_index() -> None:
    topology = healthy_topology()
    uow, _, reconcile = wire(topology)
    await reconcile.execute()
    rooms = list(topology.rooms)
    rooms[1] = dataclasses.replace(rooms[1], record=record(1, "pc-a2"))
    _, _, reconcile_again = wire(ObservedTopology(rooms=tuple(rooms)), uow)  # same database, newer Matrix state

    report = await reconcile_again.execute()

    assert report.rooms_restored == [ROOM_A]
    async with uow() as unit:
        room = await unit.rooms.get(ROOM_A)
    assert room is not None and room.context.platform_chat_id == "pc-a2"


async def test_missing_child_and_parent_links_are_repaired() -> None:
    rooms = list(healthy_topology().rooms)
    rooms[0] = dataclasses.replace(rooms[0], children=frozenset({ROOM_B}))
    rooms[2] = dataclasses.replace(rooms[2], parents=frozenset())
    _, network, reconcile = wire(ObservedTopology(rooms=tuple(rooms)))

    report = await reconcile.execute()

    assert {(r.kind, r.room_id) for r in report.repaired} == {
        (RepairKind.CHILD_LINKED, ROOM_A),
        (RepairKind.PARENT_LINKED, ROOM_B),
    }
    assert network.children == {SPACE: [ROOM_A]} and network.parents == {ROOM_B: [SPACE]}


async def test_an_archived_room_still_listed_in_the_space_is_unlinked() -> None:
    rooms = list(healthy_topology().rooms)
    rooms[2] = dataclasses.replace(rooms[2], record=record(3, "pc-b", RoomStatus.ARCHIVED))
    _, network, reconcile = wire(ObservedTopology(rooms=tuple(rooms)))
    network.children[SPACE] = [ROOM_A, ROOM_B]

    report = await reconcile.execute()

    assert [(r.kind, r.room_id) for r in report.repaired] == [(RepairKind.CHILD_UNLINKED, ROOM_B)]
    assert network.children[SPACE] == [ROOM_A]


async def test_a_dry_run_reports_the_same_and_changes_nothing() -> None:
    rooms = list(healthy_topology().rooms)
    rooms[0] = dataclasses.replace(rooms[0], children=frozenset())
    uow, network, reconcile = wire(ObservedTopology(rooms=tuple(rooms)))

    report = await reconcile.execute(dry_run=True)

    assert report.dry_run and len(report.rooms_restored) == 2 and len(report.repaired) == 2
    async with uow() as unit:
        assert await unit.rooms.all() == [] and await unit.spaces.get(ALICE) is None
    assert network.children == {} and network.parents == {} and network.room_state == {}


async def test_rooms_sharing_a_platform_chat_id_are_split() -> None:
    rooms = list(healthy_topology().rooms)
    rooms[2] = dataclasses.replace(rooms[2], record=record(3, "pc-a"))
    uow, network, reconcile = wire(ObservedTopology(rooms=tuple(rooms)))

    report = await reconcile.execute()

    assert len(report.conflicts) == 1
    async with uow() as unit:
        a, b = await unit.rooms.get(ROOM_A), await unit.rooms.get(ROOM_B)
    assert a is not None and b is not None and a.context.platform_chat_id != b.context.platform_chat_id
    assert network.room_state[ROOM_B].context == b.context


async def test_index_rows_of_rooms_the_bot_left_are_reported_orphaned() -> None:
    uow, _, reconcile = wire(healthy_topology())
    await reconcile.execute()
    rooms = tuple(r for r in healthy_topology().rooms if r.room_id != ROOM_B)
    _, _, later = wire(ObservedTopology(rooms=rooms), uow)
    assert (await later.execute()).orphaned == [ROOM_B]


async def test_catch_up_finds_owner_messages_without_an_answer_only() -> None:
    answered = IncomingText(event_id=EventId("$1"), room_id=ROOM_A, sender=ALICE, body="old")
    owed = IncomingText(event_id=EventId("$2"), room_id=ROOM_A, sender=ALICE, body="new")
    stranger = IncomingText(event_id=EventId("$3"), room_id=ROOM_A, sender=UserId("@eve:x"), body="hi")
    lobby = IncomingText(event_id=EventId("$4"), room_id=LOBBY, sender=ALICE, body="hey")
    rooms = list(healthy_topology().rooms)
    rooms[1] = dataclasses.replace(rooms[1], recent=(answered, owed, stranger), answered=frozenset({EventId("$1")}))
    rooms[3] = dataclasses.replace(rooms[3], recent=(lobby,))
    topology = ObservedTopology(rooms=tuple(rooms))
    uow, _, reconcile = wire(topology)
    await reconcile.execute()

    pending = await FindUnanswered(uow, FakeTopologyReader(topology)).execute()

    assert [m.event_id for m in pending] == ["$2"]
    assert [m.event_id for m in await FindUnanswered(uow, FakeTopologyReader(topology)).execute()] == ["$2"]
