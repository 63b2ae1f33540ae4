"""`!context`: what this room is bound to, and the files waiting for its next message."""

from domain.catalog import Catalog
from domain.services.chat_commands.base import CommandRequest, chat_room
from domain.services.file_notices import shown
from ports.unit_of_work import UnitOfWorkFactory


class ShowContext:
    def __init__(self, uow: UnitOfWorkFactory, catalog: Catalog) -> None:
        self._uow = uow
        self._catalog = catalog

    async def execute(self, request: CommandRequest) -> str:
        room = chat_room(request)
        async with self._uow() as uow:
            snapshots = await uow.snapshots.for_owner(room.owner)
            staged = await uow.staged_files.for_room(room.room_id)
        none = self._catalog.text("none")
        return self._catalog.text(
            "context",
            agent_id=room.context.agent_id,
            platform_chat_id=room.context.platform_chat_id,
            message_count=room.message_count,
            staged=", ".join(shown(s.attachment.filename) for s in staged) or none,
            snapshots=", ".join(f"`{s.label}`" for s in snapshots) or none,
        )
