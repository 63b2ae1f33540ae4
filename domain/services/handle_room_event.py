"""Dispatches each event of a room's queue to its use case."""

from domain.model.controls import QuestionEdited, Reaction, Redaction
from domain.model.messages import RoomEvent, RoomRenamed
from domain.services.handle_message import HandleMessage
from domain.services.record_room_name import RecordRoomName
from domain.services.regenerate_answer import RegenerateAnswer
from ports.receipts import ReadReceipts


class HandleRoomEvent:
    def __init__(
        self,
        messages: HandleMessage,
        names: RecordRoomName,
        receipts: ReadReceipts | None = None,
        regenerate: RegenerateAnswer | None = None,
    ) -> None:
        self._messages = messages
        self._names = names
        self._receipts = receipts
        self._regenerate = regenerate

    async def execute(self, event: RoomEvent) -> None:
        if isinstance(event, RoomRenamed):
            await self._names.execute(event)
            return
        if isinstance(event, Redaction):
            return  # acted on as it was queued (a stop); nothing is left to do in its turn
        if isinstance(event, Reaction | QuestionEdited):
            if self._regenerate is not None:
                await self._regenerate.execute(event)
            return
        # Marked read as it is taken, before the answer: the person sees at once that it arrived.
        if self._receipts is not None:
            await self._receipts.mark_read(event.room_id, event.event_id)
        await self._messages.execute(event)
