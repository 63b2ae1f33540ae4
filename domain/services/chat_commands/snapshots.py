"""`!save [label]` and `!load <label>`: snapshots owned by the person, usable from any of their rooms."""

import re

from domain.catalog import Catalog
from domain.model.agents import AgentDirectory
from domain.model.context import ChatContext
from domain.model.snapshot import Snapshot
from domain.services.chat_commands.base import CommandError, CommandRequest, chat_room
from domain.services.chat_commands.rebind_room import RebindRoom
from ports.platform import ContextTransferUnsupported, PlatformClient
from ports.unit_of_work import UnitOfWorkFactory

LABEL_LIMIT = 64
_LABEL = re.compile(rf"[\w.-]{{1,{LABEL_LIMIT}}}")


def valid_label(text: str) -> str:
    label = text.strip()
    if not _LABEL.fullmatch(label):
        raise CommandError("label_invalid", limit=LABEL_LIMIT)
    return label


class SaveSnapshot:
    def __init__(self, uow: UnitOfWorkFactory, platform: PlatformClient, catalog: Catalog) -> None:
        self._uow = uow
        self._platform = platform
        self._catalog = catalog

    async def execute(self, request: CommandRequest) -> str:
        room = chat_room(request)
        label = valid_label(request.args) if request.args.strip() else room.chat_id.lower()
        try:
            payload = await self._platform.export_context(room.context)
        except ContextTransferUnsupported as error:
            raise CommandError("no_context_transfer", agent_id=room.context.agent_id) from error
        snapshot = Snapshot(
            owner=request.message.sender,
            label=label,
            agent_id=room.context.agent_id,
            source_chat_id=room.context.platform_chat_id,
            payload=payload,
            message_count=room.message_count,
            created_at_ms=request.message.timestamp_ms,
        )
        async with self._uow() as uow:
            await uow.snapshots.save(snapshot)
            await uow.commit()
        return self._catalog.text("saved", label=label)


class LoadSnapshot:
    """Seeds a fresh platform_chat_id from the snapshot before the room is pointed at it."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        platform: PlatformClient,
        rebind: RebindRoom,
        agents: AgentDirectory,
        catalog: Catalog,
    ) -> None:
        self._uow = uow
        self._platform = platform
        self._rebind = rebind
        self._agents = agents
        self._catalog = catalog

    async def execute(self, request: CommandRequest) -> str:
        room = chat_room(request)
        if not request.args.strip():
            raise CommandError("label_required")
        label = valid_label(request.args)
        async with self._uow() as uow:
            snapshot = await uow.snapshots.get(request.message.sender, label)
        if snapshot is None:
            raise CommandError("snapshot_missing", label=label)
        # The snapshot's agent understands its payload; fall back to the room's if it left the registry.
        agent_id = snapshot.agent_id if self._agents.get(snapshot.agent_id) else room.context.agent_id
        context = ChatContext.fresh(agent_id)
        try:
            await self._platform.import_context(context, snapshot.payload)
        except ContextTransferUnsupported as error:
            raise CommandError("no_context_transfer", agent_id=agent_id) from error
        await self._rebind.execute(room, context, message_count=snapshot.message_count)
        return self._catalog.text("loaded", label=label)
