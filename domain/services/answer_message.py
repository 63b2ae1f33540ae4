"""Sends a chat message to the room's agent and posts the answer as a reply."""

import logging

from domain.catalog import Catalog
from domain.model.agent import AgentFailed, AgentRequest, Done, TextDelta
from domain.model.messages import IncomingText
from domain.model.room import ChatRoom
from domain.services.title_room import TitleRoom
from ports.messenger import MessageSender
from ports.platform import PlatformClient, PlatformError
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


def reply_txn_id(message: IncomingText) -> str:
    # Derived from the user's event, so a retry after a crash is deduplicated
    # by the homeserver instead of posting a second answer.
    return f"reply-{message.event_id}"


class AnswerMessage:
    """One user message in, one reply out; the inbox mark makes it exactly once."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        platform: PlatformClient,
        sender: MessageSender,
        catalog: Catalog,
        title: TitleRoom | None = None,
    ) -> None:
        self._uow = uow
        self._platform = platform
        self._sender = sender
        self._catalog = catalog
        self._title = title

    async def execute(self, message: IncomingText, room: ChatRoom) -> None:
        request = AgentRequest(
            agent_id=room.context.agent_id,
            platform_chat_id=room.context.platform_chat_id,
            text=message.body,
            sender=message.sender,
        )
        await self._sender.set_typing(room.room_id, True)
        try:
            answer, failure = await self._ask(request)
        finally:
            await self._sender.set_typing(room.room_id, False)
        if failure is not None:
            text = self._catalog.text("agent_failed", reason=failure)
        else:
            text = answer or self._catalog.text("empty_answer")
        if failure is None and self._title is not None and self._title.wants_title(room):
            # Titled before the reply is posted, so whoever sees the answer sees the title too.
            await self._title.execute(room, message.body, answer)
        await self._sender.send_reply(room.room_id, message.event_id, text, reply_txn_id(message))
        await self._record_answered(message, room)

    async def _ask(self, request: AgentRequest) -> tuple[str, str | None]:
        parts: list[str] = []
        try:
            async for event in self._platform.stream(request):
                if isinstance(event, TextDelta):
                    parts.append(event.text)
                elif isinstance(event, AgentFailed):
                    return "".join(parts), event.message
                elif isinstance(event, Done):
                    break
        except PlatformError as error:
            log.warning("agent_unreachable", extra={"room_id": str(request.platform_chat_id), "error": str(error)})
            return "".join(parts), str(error)
        return "".join(parts), None

    async def _record_answered(self, message: IncomingText, room: ChatRoom) -> None:
        async with self._uow() as uow:
            await uow.inbox.mark_done(message.event_id)
            stored = await uow.rooms.get(room.room_id)
            if stored is not None:
                stored.message_count += 1
                await uow.rooms.save(stored)
            await uow.commit()
