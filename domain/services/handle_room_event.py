"""Dispatches each event of a room's queue to its use case."""

from domain.model.messages import RoomEvent, RoomRenamed
from domain.services.handle_message import HandleMessage
from domain.services.record_room_name import RecordRoomName


class HandleRoomEvent:
    def __init__(self, messages: HandleMessage, names: RecordRoomName) -> None:
        self._messages = messages
        self._names = names

    async def execute(self, event: RoomEvent) -> None:
        if isinstance(event, RoomRenamed):
            await self._names.execute(event)
        else:
            await self._messages.execute(event)
