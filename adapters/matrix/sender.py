"""Posts messages through matrix-nio: Markdown rendered to sanitised HTML, replies, typing."""

import html
import logging
import uuid
from typing import Any

import aiohttp
from nio import AsyncClient, RoomSendResponse, RoomTypingResponse

from adapters.matrix.attachment_crypto import jwk
from adapters.matrix.errors import checked
from adapters.matrix.rendering import render_markdown
from adapters.matrix.room_encryption import RoomEncryption
from domain.model.ids import EventId, RoomId
from domain.model.media import UploadedMedia
from domain.model.outgoing_file import OutgoingFile
from ports.messenger import MessageSender

log = logging.getLogger(__name__)

TYPING_TIMEOUT_MS = 30_000


def plain_html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def no_mentions(body: str) -> dict[str, Any]:
    """`m.mentions: {}` ("mentions nobody") when the text has an `@`: the legacy push rules then ignore the
    `@room` and the user ids in it. Without an `@` they could only match a member's display name or
    localpart, which highlights someone already notified of every message in the room; there the key is
    left out, because Synapse spends about 2 ms of CPU validating it on every event under load
    (docs/decisions.md, "Performance"; docs/security.md)."""
    return {"m.mentions": {}} if "@" in body else {}


def message_content(markdown: str, msgtype: str) -> dict[str, Any]:
    rendered = render_markdown(markdown)
    # formatted_body is always sent, so clients render every answer the same way.
    return {
        "msgtype": msgtype,
        "body": rendered.body,
        "format": "org.matrix.custom.html",
        "formatted_body": rendered.formatted_body or plain_html(rendered.body),
        **no_mentions(rendered.body),
    }


def file_content(file: OutgoingFile, media: UploadedMedia) -> dict[str, Any]:
    """`m.image` with its dimensions when the file is a readable image, else `m.file`; name, type and size.

    An encrypted upload is referenced only through `file` (its URL with the key, counter and hash), never
    through a plaintext `url`.
    """
    info: dict[str, Any] = {"mimetype": file.mime_type, "size": file.size}
    if file.is_image:
        info |= {"w": file.width, "h": file.height}
    if media.key is None:
        reference: dict[str, Any] = {"url": media.url}
    else:
        key = media.key
        reference = {
            "file": {"url": media.url, "key": jwk(key), "iv": key.iv, "hashes": {"sha256": key.sha256}, "v": "v2"}
        }
    return {
        "msgtype": "m.image" if file.is_image else "m.file",
        "body": file.filename,
        "filename": file.filename,
        **reference,
        "info": info,
        **no_mentions(file.filename),
    }


def reply_relation(reply_to: EventId, thread: EventId | None) -> dict[str, Any]:
    """A reply; inside a thread, a thread event whose `m.in_reply_to` is the fallback for clients without threads
    (and what `find_unanswered` reads after a database loss)."""
    if thread is None:
        return {"m.in_reply_to": {"event_id": reply_to}}
    return {
        "rel_type": "m.thread",
        "event_id": thread,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": reply_to},
    }


class NioMessageSender(MessageSender):
    """MessageSender on matrix-nio; the transaction id makes a retried send land once."""

    def __init__(self, client: AsyncClient, encryption: RoomEncryption | None = None) -> None:
        self._client = client
        # Makes every send into an encrypted room an encrypted one, rooms nio has not synced yet included.
        self._encryption = encryption

    async def send_reply(
        self,
        room_id: RoomId,
        reply_to: EventId,
        markdown: str,
        txn_id: str,
        notice: bool = False,
        thread: EventId | None = None,
    ) -> EventId:
        content = message_content(markdown, "m.notice" if notice else "m.text")
        content["m.relates_to"] = reply_relation(reply_to, thread)
        return await self._send(room_id, content, txn_id)

    async def edit_message(self, room_id: RoomId, event_id: EventId, markdown: str, txn_id: str) -> EventId:
        new_content = message_content(markdown, "m.text")
        content = {
            **message_content(f"* {markdown}", "m.text"),
            "m.new_content": new_content,
            "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
        }
        return await self._send(room_id, content, txn_id)

    async def send_file(
        self, room_id: RoomId, reply_to: EventId, file: OutgoingFile, media: UploadedMedia, txn_id: str
    ) -> EventId:
        content = file_content(file, media)
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self._send(room_id, content, txn_id)

    async def send_notice(self, room_id: RoomId, markdown: str, txn_id: str | None = None) -> EventId:
        return await self._send(room_id, message_content(markdown, "m.notice"), txn_id or str(uuid.uuid4()))

    async def set_typing(self, room_id: RoomId, typing: bool) -> None:
        # A lost typing notice is cosmetic: never fail an answer over it, not even when the homeserver is down.
        try:
            response = await self._client.room_typing(room_id, typing_state=typing, timeout=TYPING_TIMEOUT_MS)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("typing_failed", extra={"room_id": room_id, "error": str(error) or type(error).__name__})
            return
        if not isinstance(response, RoomTypingResponse):
            log.warning("typing_failed", extra={"room_id": room_id, "error": str(response)})

    async def _send(self, room_id: RoomId, content: dict[str, Any], txn_id: str) -> EventId:
        if self._encryption is not None:
            await self._encryption.prepare(room_id)
        response = await self._client.room_send(
            room_id, "m.room.message", content, tx_id=txn_id, ignore_unverified_devices=True
        )
        return EventId(checked("send message", response, RoomSendResponse).event_id)
