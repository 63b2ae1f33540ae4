"""`!archive` and `!restore`: a chat leaves the Space (its context kept as a snapshot) and comes back."""

import dataclasses
import logging

from domain.catalog import Catalog
from domain.model.context import ChatContext
from domain.model.room import RoomStatus
from domain.model.snapshot import Snapshot
from domain.services.chat_commands.base import CommandError, CommandRequest, chat_room
from domain.services.chat_commands.rebind_room import RebindRoom
from ports.platform import ContextTransferUnsupported, PlatformClient
from ports.topology import ChatTopology
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


def archive_label(chat_id: str) -> str:
    return f"archived-{chat_id.lower()}"


class _ArchiveCommand:
    """What `!archive` and `!restore` both need."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        topology: ChatTopology,
        platform: PlatformClient,
        rebind: RebindRoom,
        catalog: Catalog,
    ) -> None:
        self._uow = uow
        self._topology = topology
        self._platform = platform
        self._rebind = rebind
        self._catalog = catalog


class ArchiveChat(_ArchiveCommand):
    """Unlinks the room from the Space; the rooms stays, marked archived, its upstream chat closed."""

    async def execute(self, request: CommandRequest) -> str:
        room = chat_room(request)
        if not room.is_active:
            raise CommandError("already_archived")
        await self._keep_context(request, room.context, room.chat_id, room.message_count)
        archived = dataclasses.replace(room, status=RoomStatus.ARCHIVED, archived_notice_sent=False)
        await self._topology.write_room_state(archived)
        await self._topology.unlink_child(room.space_id, room.room_id)
        async with self._uow() as uow:
            await uow.rooms.save(archived)
            await uow.commit()
        await self._rebind.disconnect(room.context)
        return self._catalog.text("archived")

    async def _keep_context(self, request: CommandRequest, context: ChatContext, chat_id: str, count: int) -> None:
        try:
            payload = await self._platform.export_context(context)
        except ContextTransferUnsupported:
            return  # the room comes back with a fresh context: nothing could be kept
        snapshot = Snapshot(
            owner=request.message.sender,
            label=archive_label(chat_id),
            agent_id=context.agent_id,
            source_chat_id=context.platform_chat_id,
            payload=payload,
            message_count=count,
            created_at_ms=request.message.timestamp_ms,
        )
        async with self._uow() as uow:
            await uow.snapshots.save(snapshot)
            await uow.commit()


class RestoreChat(_ArchiveCommand):
    """Links the room back into the Space under a new platform_chat_id seeded from its archived context."""

    async def execute(self, request: CommandRequest) -> str:
        room = chat_room(request)
        if room.is_active:
            raise CommandError("not_archived")
        context = room.context.rotated()
        count = await self._seed(request, context, room.chat_id)
        restored = dataclasses.replace(room, status=RoomStatus.ACTIVE, archived_notice_sent=False)
        await self._topology.link_child(room.space_id, room.room_id)
        await self._rebind.execute(restored, context, message_count=count)
        return self._catalog.text("restored")

    async def _seed(self, request: CommandRequest, context: ChatContext, chat_id: str) -> int:
        async with self._uow() as uow:
            snapshot = await uow.snapshots.get(request.message.sender, archive_label(chat_id))
        if snapshot is None:
            return 0
        try:
            await self._platform.import_context(context, snapshot.payload)
        except ContextTransferUnsupported:
            return 0
        return snapshot.message_count
