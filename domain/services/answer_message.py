"""Sends a chat message to the room's agent and posts the answer as a reply."""

import logging
from dataclasses import dataclass, field

from domain.catalog import Catalog
from domain.model.agent import AgentFailed, AgentRequest, Done, FileEmitted, TextDelta
from domain.model.attachment import Attachment
from domain.model.messages import IncomingText, UserMessage
from domain.model.room import ChatRoom
from domain.model.staged_file import StagedFile
from domain.services.post_agent_files import PostAgentFiles
from domain.services.title_room import TitleRoom
from ports.messenger import MessageSender
from ports.platform import PlatformClient, PlatformError
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


def reply_txn_id(message: UserMessage) -> str:
    # Derived from the user's event, so a retry after a crash is deduplicated
    # by the homeserver instead of posting a second answer.
    return f"reply-{message.event_id}"


@dataclass
class _Answer:
    text: str = ""
    failure: str | None = None
    files: list[str] = field(default_factory=list)  # workspace paths the agent emitted, in order


class AnswerMessage:
    """One user message in, one reply out; the inbox mark makes it exactly once.

    The room's staged files go with the message and are unstaged once the agent has answered; files
    the agent emits are posted after the text.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        platform: PlatformClient,
        sender: MessageSender,
        catalog: Catalog,
        title: TitleRoom | None = None,
        files: PostAgentFiles | None = None,
    ) -> None:
        self._uow = uow
        self._platform = platform
        self._sender = sender
        self._catalog = catalog
        self._title = title
        self._files = files

    async def execute(self, message: IncomingText, room: ChatRoom, attachments: tuple[Attachment, ...] = ()) -> None:
        async with self._uow() as uow:
            staged = await uow.staged_files.for_room(room.room_id)
        request = AgentRequest(
            agent_id=room.context.agent_id,
            platform_chat_id=room.context.platform_chat_id,
            text=message.body,
            sender=message.sender,
            attachments=(*(s.attachment for s in staged), *attachments),
        )
        await self._sender.set_typing(room.room_id, True)
        try:
            answer = await self._ask(request)
        finally:
            await self._sender.set_typing(room.room_id, False)
        if answer.failure is None and self._title is not None and self._title.wants_title(room):
            # Titled before the reply is posted, so whoever sees the answer sees the title too.
            await self._title.execute(room, message.body, answer.text)
        text = self._reply_text(answer)
        if text is not None:
            await self._sender.send_reply(room.room_id, message.event_id, text, reply_txn_id(message))
        if answer.files and self._files is not None:
            await self._files.execute(room.room_id, message.event_id, answer.files)
        # Kept staged when the agent failed: they go again with the message that retries.
        await self._record_answered(message, room, staged if answer.failure is None else [])

    def _reply_text(self, answer: _Answer) -> str | None:
        if answer.failure is not None:
            return self._catalog.text("agent_failed", reason=answer.failure)
        if answer.text:
            return answer.text
        # An answer made only of files needs no "nothing" placeholder: the files reply to the message.
        return None if answer.files else self._catalog.text("empty_answer")

    async def _ask(self, request: AgentRequest) -> _Answer:
        answer = _Answer()
        parts: list[str] = []
        try:
            async for event in self._platform.stream(request):
                if isinstance(event, TextDelta):
                    parts.append(event.text)
                elif isinstance(event, FileEmitted):
                    answer.files.append(event.workspace_path)
                elif isinstance(event, AgentFailed):
                    answer.failure = event.message
                    break
                elif isinstance(event, Done):
                    break
        except PlatformError as error:
            log.warning("agent_unreachable", extra={"room_id": str(request.platform_chat_id), "error": str(error)})
            answer.failure = str(error)
        answer.text = "".join(parts)
        return answer

    async def _record_answered(self, message: IncomingText, room: ChatRoom, taken: list[StagedFile]) -> None:
        async with self._uow() as uow:
            await uow.inbox.mark_done(message.event_id)
            await uow.staged_files.remove(room.room_id, [s.event_id for s in taken])
            stored = await uow.rooms.get(room.room_id)
            if stored is not None:
                stored.message_count += 1
                await uow.rooms.save(stored)
            await uow.commit()
