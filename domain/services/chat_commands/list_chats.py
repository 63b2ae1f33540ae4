"""`!list`: the person's chats with links."""

from domain.catalog import Catalog
from domain.model.links import matrix_to
from domain.services.chat_commands.base import CommandRequest
from ports.topology import ChatTopology
from ports.unit_of_work import UnitOfWorkFactory


class ListChats:
    def __init__(self, uow: UnitOfWorkFactory, topology: ChatTopology, catalog: Catalog) -> None:
        self._uow = uow
        self._topology = topology
        self._catalog = catalog

    async def execute(self, request: CommandRequest) -> str:
        async with self._uow() as uow:
            rooms = await uow.rooms.for_owner(request.message.sender)
        if not rooms:
            return self._catalog.text("no_chats")
        lines = [self._catalog.text("chat_list_header"), ""]
        for room in rooms:
            archived = "" if room.is_active else self._catalog.text("chat_list_archived")
            link = matrix_to(room.room_id, self._topology.server_name)
            lines.append(
                self._catalog.text(
                    "chat_list_item", name=room.name, chat_id=room.chat_id, archived=archived, room_link=link
                )
            )
        return "\n".join(lines)
