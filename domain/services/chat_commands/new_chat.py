"""`!new [name]`: another chat room in the person's Space."""

from domain.catalog import Catalog
from domain.model.agents import AgentDirectory
from domain.model.links import matrix_to
from domain.services.chat_commands.base import CommandError, CommandRequest, one_line
from domain.services.create_chat_room import CreateChatRoom
from ports.topology import ChatTopology
from ports.unit_of_work import UnitOfWorkFactory

NAME_LIMIT = 100


class NewChat:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        create_chat_room: CreateChatRoom,
        topology: ChatTopology,
        agents: AgentDirectory,
        catalog: Catalog,
    ) -> None:
        self._uow = uow
        self._create = create_chat_room
        self._topology = topology
        self._agents = agents
        self._catalog = catalog

    async def execute(self, request: CommandRequest) -> str:
        name = one_line(request.args, NAME_LIMIT, "name_invalid") or None
        async with self._uow() as uow:
            space = await uow.spaces.get(request.message.sender)
        if space is None or space.space_id is None:
            raise CommandError("lobby_no_space")
        room = await self._create.execute(space, self._agents.default, name)
        link = matrix_to(room.room_id, self._topology.server_name)
        return self._catalog.text("chat_created", name=room.name, room_link=link)
