"""`!rename <name>`: sets the room's name; the index follows."""

import dataclasses

from domain.catalog import Catalog
from domain.services.chat_commands.base import CommandError, CommandRequest, chat_room, one_line
from ports.topology import ChatTopology
from ports.unit_of_work import UnitOfWorkFactory

NAME_LIMIT = 100


class RenameChat:
    def __init__(self, uow: UnitOfWorkFactory, topology: ChatTopology, catalog: Catalog) -> None:
        self._uow = uow
        self._topology = topology
        self._catalog = catalog

    async def execute(self, request: CommandRequest) -> str:
        room = chat_room(request)
        name = one_line(request.args, NAME_LIMIT, "name_invalid")
        if not name:
            raise CommandError("name_required")
        await self._topology.set_room_name(room.room_id, name)
        async with self._uow() as uow:
            await uow.rooms.save(dataclasses.replace(room, name=name))
            await uow.commit()
        return self._catalog.text("renamed", name=name)
