import pytest

from domain.model.ids import RoomId, UserId
from domain.model.messages import Invitation
from domain.services.onboard_user import Outcome
from tests.unit.domain.conftest import World, build_world

ALICE = UserId("@alice:example.org")
DM = RoomId("!dm:example.org")


async def test_first_contact_creates_space_and_chat_1(world: World) -> None:
    world.topology.names[ALICE] = "Alice"
    result = await world.onboard.execute(ALICE, DM)

    assert result.outcome is Outcome.CREATED and result.first_room is not None
    (space,) = world.topology.spaces.values()
    assert space.owner == ALICE
    (new_room,) = world.topology.rooms.values()
    assert new_room.name == "Chat 1" and new_room.invite == ALICE
    assert world.topology.children[result.space_id] == [result.first_room.room_id]
    async with world.uow() as uow:
        stored = await uow.rooms.get(result.first_room.room_id)
        stored_space = await uow.spaces.get(ALICE)
    assert stored is not None and stored.chat_id == "C1" and stored.context.agent_id == "echo"
    assert stored_space is not None and stored_space.space_id == result.space_id


async def test_onboarding_posts_links_in_the_entry_room_and_a_welcome(world: World) -> None:
    result = await world.onboard.execute(ALICE, DM)
    assert result.first_room is not None
    (pointer,) = world.sender.texts_in(DM)
    assert "matrix.to" in pointer
    (welcome,) = world.sender.texts_in(result.first_room.room_id)
    assert "!help" in welcome


async def test_a_second_contact_points_to_the_existing_space(world: World) -> None:
    first = await world.onboard.execute(ALICE, DM)
    second = await world.onboard.execute(ALICE, RoomId("!other:example.org"))

    assert second.outcome is Outcome.EXISTING and second.space_id == first.space_id
    assert len(world.topology.spaces) == 1 and len(world.topology.rooms) == 1
    assert "already" in world.sender.texts_in(RoomId("!other:example.org"))[0]


async def test_a_crash_after_the_space_resumes_without_a_second_space(world: World) -> None:
    world.topology.fail_room_creation = True
    with pytest.raises(RuntimeError):
        await world.onboard.execute(ALICE, DM)
    world.topology.fail_room_creation = False

    result = await world.onboard.execute(ALICE, DM)

    assert result.outcome is Outcome.CREATED
    assert len(world.topology.spaces) == 1 and len(world.topology.rooms) == 1


async def test_russian_locale_names_the_first_room_chat_1_in_russian() -> None:
    world = build_world(locale="ru")
    await world.onboard.execute(ALICE, DM)
    (new_room,) = world.topology.rooms.values()
    assert new_room.name == "Чат 1"


async def test_invite_from_a_disallowed_user_is_rejected_and_changes_nothing(world: World) -> None:
    stranger = UserId("@mallory:evil.org")
    await world.accept.execute(Invitation(room_id=DM, inviter=stranger))

    assert world.topology.rejected == [DM] and world.topology.joined == []
    assert world.topology.spaces == {} and world.sender.sent == []


async def test_invite_from_an_allowed_user_joins_and_onboards(world: World) -> None:
    await world.accept.execute(Invitation(room_id=DM, inviter=ALICE))
    assert world.topology.joined == [DM] and len(world.topology.spaces) == 1
