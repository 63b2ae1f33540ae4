"""First contact: give a person their Space and first chat, exactly once."""

import logging
from dataclasses import dataclass
from enum import StrEnum

from domain.catalog import Catalog
from domain.model.ids import AgentId, RoomId, UserId
from domain.model.links import matrix_to
from domain.model.room import ChatRoom
from domain.model.space import UserSpace
from domain.services.create_chat_room import CreateChatRoom
from ports.messenger import MessageSender
from ports.topology import ChatTopology
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    CREATED = "created"
    EXISTING = "existing"


@dataclass(frozen=True, kw_only=True)
class OnboardingResult:
    outcome: Outcome
    space_id: RoomId
    first_room: ChatRoom | None


class OnboardUser:
    """Provisions Space and "Chat 1" in order, resuming a half-done attempt instead of duplicating it."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        topology: ChatTopology,
        sender: MessageSender,
        create_chat_room: CreateChatRoom,
        catalog: Catalog,
        default_agent: AgentId,
    ) -> None:
        self._uow = uow
        self._topology = topology
        self._sender = sender
        self._create_chat_room = create_chat_room
        self._catalog = catalog
        self._default_agent = default_agent

    async def execute(self, user_id: UserId, entry_room_id: RoomId) -> OnboardingResult:
        async with self._uow() as uow:
            space = await uow.spaces.get(user_id)
            rooms = await uow.rooms.for_owner(user_id) if space else []
        if space is not None and space.space_id is not None and rooms:
            await self._point_to_existing(space.space_id, entry_room_id)
            return OnboardingResult(outcome=Outcome.EXISTING, space_id=space.space_id, first_room=None)
        space = await self._ensure_space(space, user_id)
        assert space.space_id is not None  # _ensure_space guarantees it
        room = await self._create_chat_room.execute(space, self._default_agent)
        await self._announce(space.space_id, room, entry_room_id)
        log.info("user_onboarded", extra={"owner": user_id, "space_id": space.space_id, "room_id": room.room_id})
        return OnboardingResult(outcome=Outcome.CREATED, space_id=space.space_id, first_room=room)

    async def _ensure_space(self, space: UserSpace | None, user_id: UserId) -> UserSpace:
        if space is None:
            space = UserSpace(owner=user_id, display_name=await self._topology.display_name(user_id))
            async with self._uow() as uow:
                await uow.spaces.add(space)
                await uow.commit()
        if space.space_id is None:
            name = self._catalog.text("space_name", display_name=space.display_name)
            space.space_id = await self._topology.create_space(name, space)
            async with self._uow() as uow:
                await uow.spaces.save(space)
                await uow.commit()
        return space

    async def _point_to_existing(self, space_id: RoomId, entry_room_id: RoomId) -> None:
        link = matrix_to(space_id, self._topology.server_name)
        await self._sender.send_notice(entry_room_id, self._catalog.text("already_onboarded", space_link=link))

    async def _announce(self, space_id: RoomId, room: ChatRoom, entry_room_id: RoomId) -> None:
        via = self._topology.server_name
        text = self._catalog.text(
            "onboarded", space_link=matrix_to(space_id, via), room_link=matrix_to(room.room_id, via)
        )
        await self._sender.send_notice(entry_room_id, text, txn_id=f"onboarded-{room.room_id}")
        welcome = self._catalog.text("welcome", agent_id=room.context.agent_id)
        await self._sender.send_notice(room.room_id, welcome, txn_id=f"welcome-{room.room_id}")
