"""Provisions one chat room inside a person's Space."""

import logging

from domain.catalog import Catalog
from domain.model.context import ChatContext
from domain.model.ids import AgentId, RoomId
from domain.model.room import ChatRoom
from domain.model.space import UserSpace
from ports.topology import ChatTopology, NewRoom
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class CreateChatRoom:
    """Creates "Chat N" in the Space with its state, links it as a child and records it."""

    def __init__(self, uow: UnitOfWorkFactory, topology: ChatTopology, catalog: Catalog) -> None:
        self._uow = uow
        self._topology = topology
        self._catalog = catalog

    async def execute(self, space: UserSpace, agent_id: AgentId, name: str | None = None) -> ChatRoom:
        if space.space_id is None:
            raise ValueError("a chat room needs a provisioned Space")
        number = await self._allocate_number(space)
        room = ChatRoom(
            room_id=RoomId(""),
            owner=space.owner,
            space_id=space.space_id,
            chat_number=number,
            name=name or self._catalog.text("chat_name", number=number),
            context=ChatContext.fresh(agent_id),
        )
        room.room_id = await self._topology.create_chat_room(
            NewRoom(name=room.name, space_id=space.space_id, invite=space.owner, room=room)
        )
        await self._topology.link_child(space.space_id, room.room_id)
        async with self._uow() as uow:
            await uow.rooms.add(room)
            await uow.commit()
        log.info("chat_room_created", extra={"room_id": room.room_id, "owner": room.owner})
        return room

    async def _allocate_number(self, space: UserSpace) -> int:
        # The counter is committed before the room exists, so a crash in between
        # can skip a number but never hand the same number to two rooms.
        async with self._uow() as uow:
            stored = await uow.spaces.get(space.owner)
            current = stored or space
            number = current.next_chat_number()
            space.chats_created = current.chats_created
            await uow.spaces.save(current)
            await uow.commit()
        return number
