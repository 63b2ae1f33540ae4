"""`!agent [id]`: lists the registry, or moves this room to another agent with a fresh context."""

from domain.catalog import Catalog
from domain.model.agents import AgentDirectory
from domain.model.context import ChatContext
from domain.services.chat_commands.base import CommandError, CommandRequest, chat_room
from domain.services.chat_commands.rebind_room import RebindRoom


class SwitchAgent:
    def __init__(self, agents: AgentDirectory, rebind: RebindRoom, catalog: Catalog) -> None:
        self._agents = agents
        self._rebind = rebind
        self._catalog = catalog

    async def execute(self, request: CommandRequest) -> str:
        room = chat_room(request)
        wanted = request.args.strip()
        if not wanted:
            return self._list(room.context.agent_id)
        spec = self._agents.get(wanted)
        if spec is None:
            raise CommandError("agent_unknown", agent_id=wanted[:64])
        if spec.agent_id == room.context.agent_id:
            raise CommandError("agent_same", agent_id=spec.agent_id)
        await self._rebind.execute(room, ChatContext.fresh(spec.agent_id))
        return self._catalog.text("agent_switched", agent_id=spec.agent_id)

    def _list(self, current: str) -> str:
        lines = [self._catalog.text("agent_list_header", current=current), ""]
        for spec in self._agents.agents:
            marker = " ✓" if spec.agent_id == current else ""
            lines.append(
                self._catalog.text(
                    "agent_list_item", agent_id=spec.agent_id, marker=marker, description=spec.description
                )
            )
        return "\n".join(lines)
