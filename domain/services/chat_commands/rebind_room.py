"""Points a room at another upstream conversation: Matrix state first, then the index, then the old chat is closed."""

import dataclasses
import logging

from domain.model.context import ChatContext
from domain.model.room import ChatRoom
from ports.platform import PlatformClient, PlatformError
from ports.topology import ChatTopology
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class RebindRoom:
    """Matrix is written first because it is authoritative: a crash after it is repaired by reconciliation."""

    def __init__(self, uow: UnitOfWorkFactory, topology: ChatTopology, platform: PlatformClient) -> None:
        self._uow = uow
        self._topology = topology
        self._platform = platform

    async def execute(self, room: ChatRoom, context: ChatContext, message_count: int = 0) -> ChatRoom:
        old = room.context
        rebound = dataclasses.replace(room, context=context, message_count=message_count)
        await self._topology.write_room_state(rebound)
        async with self._uow() as uow:
            await uow.rooms.save(rebound)
            await uow.commit()
        await self.disconnect(old)
        log.info("room_rebound", extra={"room_id": room.room_id, "platform_chat_id": context.platform_chat_id})
        return rebound

    async def disconnect(self, old: ChatContext) -> None:
        try:
            await self._platform.disconnect_chat(old)
        except PlatformError as error:
            # The old id is never used again whatever the platform says; a failed
            # disconnect only leaves an idle session upstream.
            log.warning("disconnect_failed", extra={"platform_chat_id": old.platform_chat_id, "error": str(error)})
