"""`!retry`: the latest answer of this chat is generated again, in its place."""

from domain.services.chat_commands.base import CommandRequest, chat_room
from domain.services.regenerate_answer import RegenerateAnswer
from ports.unit_of_work import UnitOfWorkFactory


class RetryAnswer:
    def __init__(self, uow: UnitOfWorkFactory, regenerate: RegenerateAnswer) -> None:
        self._uow = uow
        self._regenerate = regenerate

    async def execute(self, request: CommandRequest) -> str:
        room = chat_room(request)
        async with self._uow() as uow:
            turn = await uow.turns.get(room.room_id)
        await self._regenerate.regenerate(request.message, room, turn)
        return ""  # the replaced answer (or the notice saying why not) is the reply
