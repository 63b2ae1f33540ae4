"""A file from a room's owner: size checked, stored in the room's inbox, then sent on or staged."""

import logging

from domain.catalog import Catalog
from domain.model.attachment import Attachment
from domain.model.file_names import safe_name
from domain.model.messages import IncomingFile, IncomingText
from domain.model.room import ChatRoom
from domain.model.sizes import human_size
from domain.model.staged_file import StagedFile
from domain.model.workspace_layout import inbox_path, safe_mime_type
from domain.services.answer_message import AnswerMessage, reply_txn_id
from domain.services.file_notices import shown, size_limit
from ports.media import MediaError, MediaIntegrityError, MediaStore, MediaTooLarge
from ports.messenger import MessageSender
from ports.unit_of_work import UnitOfWorkFactory
from ports.workspace import FileTooLarge, Workspace, WorkspaceError

log = logging.getLogger(__name__)


class ReceiveFile:
    """A captioned file goes to the agent at once with its caption; a bare one waits for the next text.

    The size is checked before anything is downloaded (the declared size against the smaller of
    `max_bytes` and the homeserver's limit) and again on every byte read; an encrypted file is kept only when it
    matches its hash. A refusal leaves nothing on disk.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        media: MediaStore,
        workspace: Workspace,
        sender: MessageSender,
        answer: AnswerMessage,
        catalog: Catalog,
        max_bytes: int,
    ) -> None:
        self._uow = uow
        self._media = media
        self._workspace = workspace
        self._sender = sender
        self._answer = answer
        self._catalog = catalog
        self._max_bytes = max_bytes

    async def execute(self, file: IncomingFile, room: ChatRoom) -> None:
        attachment = await self._store(file)
        if attachment is None:
            await self._mark_done(file)
        elif file.caption.strip():
            text = IncomingText(
                event_id=file.event_id,
                room_id=file.room_id,
                sender=file.sender,
                body=file.caption,
                timestamp_ms=file.timestamp_ms,
            )
            await self._answer.execute(text, room, (attachment,))
        else:
            await self._stage(file, attachment)

    async def store(self, file: IncomingFile) -> Attachment | None:
        """The file stored in the room's inbox as an attachment; None when refused (the person was told why)."""
        return await self._store(file)

    async def _store(self, file: IncomingFile) -> Attachment | None:
        """The attachment once the file is on disk; None when refused (the person was told why)."""
        name = safe_name(file.filename)
        limit = await size_limit(self._media, self._max_bytes)
        if file.size is not None and file.size > limit:
            await self._refuse(file, "file_too_large", limit=human_size(limit))
            return None
        path = inbox_path(file)
        try:
            content = self._media.download(file.media, limit, file.media_key)
            size = await self._workspace.write(path, content, limit)
        except (FileTooLarge, MediaTooLarge):
            await self._refuse(file, "file_too_large", limit=human_size(limit))
            return None
        except MediaIntegrityError as error:
            log.warning("file_integrity_failed", extra={"room_id": file.room_id, "error": str(error)})
            await self._refuse(file, "file_integrity_failed")
            return None
        except MediaError as error:
            log.warning("file_download_failed", extra={"room_id": file.room_id, "error": str(error)})
            await self._refuse(file, "file_download_failed")
            return None
        except WorkspaceError as error:
            log.error("workspace_write_failed", extra={"room_id": file.room_id, "error": str(error)})
            await self._refuse(file, "workspace_unavailable")
            return None
        log.info("file_stored", extra={"room_id": file.room_id, "workspace_path": path, "size": size})
        return Attachment(
            kind=file.kind.value,
            filename=name,
            mime_type=safe_mime_type(file.mime_type),
            size=size,
            workspace_path=path,
        )

    async def _refuse(self, file: IncomingFile, key: str, **values: object) -> None:
        log.info("file_refused", extra={"room_id": file.room_id, "why": key, "declared_size": file.size})
        text = self._catalog.text(key, name=shown(safe_name(file.filename)), **values)
        await self._sender.send_reply(file.room_id, file.event_id, text, reply_txn_id(file), notice=True)

    async def _stage(self, file: IncomingFile, attachment: Attachment) -> None:
        # Acknowledged before it is recorded: a crash in between repeats both, and the transaction id
        # makes the second acknowledgement the same event.
        text = self._catalog.text("file_staged", name=shown(attachment.filename), size=human_size(attachment.size))
        await self._sender.send_reply(file.room_id, file.event_id, text, reply_txn_id(file), notice=True)
        staged = StagedFile(
            room_id=file.room_id, event_id=file.event_id, attachment=attachment, timestamp_ms=file.timestamp_ms
        )
        async with self._uow() as uow:
            await uow.staged_files.add(staged)
            await uow.inbox.mark_done(file.event_id)
            await uow.commit()

    async def _mark_done(self, file: IncomingFile) -> None:
        async with self._uow() as uow:
            await uow.inbox.mark_done(file.event_id)
            await uow.commit()
