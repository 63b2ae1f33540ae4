"""Keeps the index's room name in step with `m.room.name`, including renames made in a client."""

import dataclasses
import logging

from domain.model.messages import RoomRenamed
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class RecordRoomName:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, event: RoomRenamed) -> None:
        async with self._uow() as uow:
            room = await uow.rooms.get(event.room_id)
            if room is None or room.name == event.name:
                return
            await uow.rooms.save(dataclasses.replace(room, name=event.name))
            await uow.commit()
        log.info("room_name_recorded", extra={"room_id": event.room_id, "by": event.sender})
