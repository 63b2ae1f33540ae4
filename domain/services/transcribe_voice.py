"""Voice messages: transcribed, the transcript goes to the agent as the person's text and is quoted above the
answer. Without a transcriber (or for any other file) the file path goes to the agent as before."""

import logging

from domain.catalog import Catalog
from domain.model.attachment import Attachment
from domain.model.messages import IncomingFile, IncomingText, MediaKind
from domain.model.room import ChatRoom
from domain.services.answer_message import AnswerMessage, NoRetry
from domain.services.receive_file import ReceiveFile
from ports.messenger import MessageSender
from ports.retry import RetryRunner
from ports.transcriber import Transcriber, TranscriptionFailed
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class TranscribeVoice:
    """Stands in front of ReceiveFile: audio with a transcriber configured is answered from its transcript.

    Exactly once like any message: the audio event is in the inbox and marked done with its answer; the notices
    have transaction ids derived from it.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        files: ReceiveFile,
        answer: AnswerMessage,
        sender: MessageSender,
        catalog: Catalog,
        transcriber: Transcriber | None,
        retry: RetryRunner | None = None,
    ) -> None:
        self._uow = uow
        self._files = files
        self._answer = answer
        self._sender = sender
        self._catalog = catalog
        self._transcriber = transcriber
        self._retry = retry or NoRetry()

    async def execute(self, file: IncomingFile, room: ChatRoom) -> None:
        if self._transcriber is None or file.kind is not MediaKind.AUDIO:
            await self._files.execute(file, room)
            return
        audio = await self._files.store(file)
        transcript = await self._transcript(file, audio) if audio is not None else None
        if transcript is None:
            await self._mark_done(file)
            return
        text = f"{file.caption}\n\n{transcript}" if file.caption.strip() else transcript
        message = IncomingText(
            event_id=file.event_id, room_id=file.room_id, sender=file.sender, body=text, timestamp_ms=file.timestamp_ms
        )
        await self._answer.execute(message, room, quote=transcript)

    async def _transcript(self, file: IncomingFile, audio: Attachment) -> str | None:
        assert self._transcriber is not None
        transcriber = self._transcriber

        async def tell_once(attempt: int) -> None:
            if attempt == 1:
                text = self._catalog.text("transcriber_retrying")
                await self._sender.send_reply(file.room_id, file.event_id, text, f"transcribing-{file.event_id}", True)

        try:
            return await self._retry.run(lambda: transcriber.transcribe(audio), tell_once)
        except TranscriptionFailed as error:
            log.warning("transcription_given_up", extra={"room_id": file.room_id, "error": str(error)})
            text = self._catalog.text("transcriber_gave_up", reason=str(error))
            await self._sender.send_reply(file.room_id, file.event_id, text, f"reply-{file.event_id}", True)
            return None

    async def _mark_done(self, file: IncomingFile) -> None:
        async with self._uow() as uow:
            await uow.inbox.mark_done(file.event_id)
            await uow.commit()
