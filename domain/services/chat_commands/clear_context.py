"""`!clear`: this room, and only this room, starts a new upstream conversation."""

from domain.catalog import Catalog
from domain.services.chat_commands.base import CommandRequest, chat_room
from domain.services.chat_commands.rebind_room import RebindRoom


class ClearContext:
    def __init__(self, rebind: RebindRoom, catalog: Catalog) -> None:
        self._rebind = rebind
        self._catalog = catalog

    async def execute(self, request: CommandRequest) -> str:
        room = chat_room(request)
        await self._rebind.execute(room, room.context.rotated())
        return self._catalog.text("cleared")
