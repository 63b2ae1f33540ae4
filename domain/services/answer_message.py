"""Sends a chat message to the room's agent and posts the answer as a reply."""

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from domain.catalog import Catalog
from domain.model.agent import AgentFailed, AgentRequest, Done, FileEmitted, TextDelta
from domain.model.agents import AgentDirectory
from domain.model.attachment import Attachment
from domain.model.ids import EventId
from domain.model.messages import IncomingText, MediaKind, UserMessage
from domain.model.room import ChatRoom
from domain.model.sizes import human_size
from domain.model.staged_file import StagedFile
from domain.model.turn import LatestTurn
from domain.services.agent_stream import closing
from domain.services.answers_in_flight import AnswersInFlight
from domain.services.post_agent_files import PostAgentFiles
from domain.services.streaming_reply import StreamingPolicy, StreamingReply
from domain.services.title_room import TitleRoom
from domain.services.typing_notice import TypingNotice
from ports.messenger import MessageSender
from ports.platform import PlatformClient, PlatformError
from ports.retry import RetryRunner
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


def reply_txn_id(message: UserMessage) -> str:
    # Derived from the user's event, so a retry after a crash is deduplicated
    # by the homeserver instead of posting a second answer.
    return f"reply-{message.event_id}"


def thread_of(message: UserMessage) -> EventId | None:
    """The thread a message was written in: its answer and the bot's remarks on it go there too."""
    return message.thread_root if isinstance(message, IncomingText) else None


@dataclass
class _Answer:
    text: str = ""
    failure: str | None = None
    files: list[str] = field(default_factory=list)  # workspace paths the agent emitted, in order
    given_up: bool = False
    stopped: bool = False


@dataclass
class _Progress:
    """The text of the current attempt so far: what is kept when the answer is stopped."""

    text: str = ""
    prefix: str = ""  # shown above the answer (a voice message's transcript, quoted)


def _quoted(text: str | None) -> str:
    if not text:
        return ""
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines()) + "\n\n"


T = TypeVar("T")


class NoRetry:
    """A single attempt: for wiring without back-off (tests, tools)."""

    async def run(self, attempt: Callable[[], Awaitable[T]], on_retry: Callable[[int], Awaitable[None]]) -> T:
        return await attempt()


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
        retry: RetryRunner | None = None,
        streaming: StreamingPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        in_flight: AnswersInFlight | None = None,
        agents: AgentDirectory | None = None,
    ) -> None:
        self._uow = uow
        self._platform = platform
        self._sender = sender
        self._catalog = catalog
        self._title = title
        self._files = files
        self._retry = retry or NoRetry()
        self._streaming = streaming or StreamingPolicy()
        self._clock = clock
        self._in_flight = in_flight
        self._agents = agents

    async def execute(
        self,
        message: IncomingText,
        room: ChatRoom,
        attachments: tuple[Attachment, ...] = (),
        staged: list[StagedFile] | None = None,
        replacing: LatestTurn | None = None,
        quote: str | None = None,
    ) -> None:
        """`staged` are the room's staged files when the caller has already read them in its own transaction.
        `replacing`: the room's latest turn, which this answer takes the place of (regenerate, edit); `message` is
        then the control event that asked for it, with the question's text. `quote` (a voice message's transcript)
        is shown quoted above the answer."""
        if replacing is not None:
            staged = []  # staged files wait for the next new message; the question being replaced had its own
        elif staged is None:
            async with self._uow() as uow:
                staged = await uow.staged_files.for_room(room.room_id)
        request = AgentRequest(
            agent_id=room.context.agent_id,
            platform_chat_id=room.context.platform_chat_id,
            text=message.body,
            sender=message.sender,
            attachments=(*(s.attachment for s in staged), *attachments),
            request_id=message.event_id,
            replaces_last_turn=replacing is not None,
        )
        reply = StreamingReply(
            self._sender,
            room.room_id,
            message.event_id,
            reply_txn_id(message),
            self._streaming,
            self._clock,
            thread=thread_of(message),
            replacing=None if replacing is None else replacing.answer_id,
        )
        await self._tell_unseen_images(message, room, request.attachments)
        progress = _Progress(prefix=_quoted(quote))
        async with TypingNotice(self._sender, room.room_id, self._streaming.typing_after_s):
            answer = await self._until_stopped(self._ask_with_retries(request, message, reply, progress), message)
        if answer.stopped:
            answer.text = progress.text
            log.info("answer_stopped", extra={"room_id": message.room_id, "event_id": message.event_id})
        elif answer.failure is None and not reply.posted and self._title is not None and self._title.wants_title(room):
            # Titled before the reply is posted, so whoever sees the answer sees the title too.
            await self._title.execute(room, message.body, answer.text)
        text = self._reply_text(answer)
        if text is not None:
            await reply.finish(progress.prefix + text)
        if answer.files and self._files is not None:
            await self._files.execute(room.room_id, message.event_id, answer.files)
        # Kept staged when the agent failed: they go again with the message that retries.
        turn = self._turn(message, reply, replacing)
        await self._record_answered(message, room, staged if answer.failure is None else [], turn)

    @staticmethod
    def _turn(message: IncomingText, reply: StreamingReply, replacing: LatestTurn | None) -> LatestTurn | None:
        """The room's latest turn after this answer; None when it left no answer event (files only)."""
        if reply.event_id is None:
            return None
        if replacing is None:
            return LatestTurn(
                room_id=message.room_id, question_id=message.event_id, question=message.body, answer_id=reply.event_id
            )
        return dataclasses.replace(replacing, question=message.body, trigger=message.event_id)

    async def _tell_unseen_images(
        self, message: IncomingText, room: ChatRoom, attachments: tuple[Attachment, ...]
    ) -> None:
        """An agent that sees images gets those over its limit as paths only: the person is told, once each."""
        spec = self._agents.get(room.context.agent_id) if self._agents is not None else None
        limit = spec.max_image_bytes if spec is not None else None
        if limit is None:
            return
        for number, image in enumerate(attachments):
            if image.kind == MediaKind.IMAGE and image.size > limit:
                text = self._catalog.text("image_too_large_to_see", name=image.filename, limit=human_size(limit))
                txn_id = f"unseen-{message.event_id}-{number}"
                await self._sender.send_reply(message.room_id, message.event_id, text, txn_id, True, thread_of(message))

    async def _until_stopped(self, asking: Coroutine[Any, Any, _Answer], message: IncomingText) -> _Answer:
        """The answer, or a stopped one as soon as the owner stops it: the agent's stream is then closed
        (cancelled), which over the http contract is the cancel (docs/platform-contract.md)."""
        if self._in_flight is None:
            return await asking
        stop = self._in_flight.begin(message.room_id, message.event_id, message.sender)
        task = asyncio.ensure_future(asking)
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                return task.result()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return _Answer(stopped=True)
        finally:
            for pending in (task, stopped):
                pending.cancel()
            self._in_flight.end(message.room_id, message.event_id)

    async def _ask_with_retries(
        self, request: AgentRequest, message: IncomingText, reply: StreamingReply, progress: _Progress
    ) -> _Answer:
        """Transient platform failures are retried with back-off; the person is told once, and told if it gives up."""

        async def tell_once(attempt: int) -> None:
            if attempt == 1:
                log.warning("agent_retrying", extra={"room_id": message.room_id, "event_id": message.event_id})
                text = self._catalog.text("agent_retrying")
                await self._sender.send_reply(
                    message.room_id, message.event_id, text, f"retrying-{message.event_id}", True, thread_of(message)
                )

        try:
            return await self._retry.run(lambda: self._ask(request, reply, progress), tell_once)
        except PlatformError as error:
            log.warning("agent_given_up", extra={"room_id": message.room_id, "error": str(error)})
            return _Answer(failure=self._catalog.text("agent_gave_up", reason=str(error)), given_up=True)

    def _reply_text(self, answer: _Answer) -> str | None:
        if answer.stopped:
            mark = self._catalog.text("stopped_mark")
            return f"{answer.text.rstrip()}\n\n{mark}" if answer.text.strip() else mark
        if answer.failure is not None:
            return answer.failure if answer.given_up else self._catalog.text("agent_failed", reason=answer.failure)
        if answer.text:
            return answer.text
        # An answer made only of files needs no "nothing" placeholder: the files reply to the message.
        return None if answer.files else self._catalog.text("empty_answer")

    async def _ask(self, request: AgentRequest, reply: StreamingReply, progress: _Progress) -> _Answer:
        """One attempt; a PlatformError (unreachable, cut off, transient) propagates so the attempt is retried."""
        answer = _Answer()
        parts: list[str] = []
        reply.attempt_started()
        progress.text = ""
        # Closed at once when the answer is stopped, so the adapter ends its request and keeps what it streamed.
        async with closing(self._platform.stream(request)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    parts.append(event.text)
                    progress.text = "".join(parts)
                    await reply.grow(progress.prefix + progress.text)
                elif isinstance(event, FileEmitted):
                    answer.files.append(event.workspace_path)
                elif isinstance(event, AgentFailed):
                    answer.failure = event.message
                    break
                elif isinstance(event, Done):
                    break
        answer.text = "".join(parts)
        return answer

    async def _record_answered(
        self, message: IncomingText, room: ChatRoom, taken: list[StagedFile], turn: LatestTurn | None
    ) -> None:
        # One transaction of plain writes: this runs for every answer, so it reads nothing back.
        async with self._uow() as uow:
            await uow.inbox.mark_done(message.event_id)
            if taken:
                await uow.staged_files.remove(room.room_id, [s.event_id for s in taken])
            if turn is not None:
                await uow.turns.save(turn)
            if turn is None or turn.trigger is None:
                await uow.rooms.count_answer(room.room_id)
            await uow.commit()
