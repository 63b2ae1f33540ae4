"""Maps nio events to domain values; everything the bot does not act on maps to None."""

import re
from typing import Any, Final

from nio import (
    BadEvent,
    Event,
    InviteMemberEvent,
    ReactionEvent,
    RedactionEvent,
    RoomEncryptedAudio,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomEncryptedMedia,
    RoomEncryptedVideo,
    RoomMessage,
    RoomMessageAudio,
    RoomMessageFile,
    RoomMessageImage,
    RoomMessageMedia,
    RoomMessageText,
    RoomMessageVideo,
    RoomNameEvent,
)

from adapters.matrix.attachment_crypto import is_well_formed
from adapters.matrix.encrypted_events import to_encrypted_message
from domain.model.controls import REGENERATE_KEYS, ControlEvent, QuestionEdited, Reaction, Redaction
from domain.model.ids import EventId, RoomId, UserId
from domain.model.media import MediaKey
from domain.model.messages import IncomingFile, IncomingText, Invitation, MediaKind, RoomEvent, RoomRenamed, UserMessage

_MEDIA_KINDS: Final = {
    RoomMessageFile: MediaKind.FILE,
    RoomMessageImage: MediaKind.IMAGE,
    RoomMessageAudio: MediaKind.AUDIO,
    RoomMessageVideo: MediaKind.VIDEO,
    # Decrypted by nio; their content is still encrypted, its key in `content.file`.
    RoomEncryptedFile: MediaKind.FILE,
    RoomEncryptedImage: MediaKind.IMAGE,
    RoomEncryptedAudio: MediaKind.AUDIO,
    RoomEncryptedVideo: MediaKind.VIDEO,
}
# mxc://<server-name>/<media-id>, as the spec allows them; anything else is never fetched.
_MXC: Final = re.compile(r"mxc://[A-Za-z0-9.\-:\[\]]{1,255}/[A-Za-z0-9_-]{1,255}")


def _is_edit(source: dict[str, Any]) -> bool:
    content = source.get("content")
    if not isinstance(content, dict):
        return False
    relates = content.get("m.relates_to")
    return isinstance(relates, dict) and relates.get("rel_type") == "m.replace"


def to_incoming_text(room_id: str, event: Event, own_user_id: str) -> IncomingText | None:
    """A plain text message from someone else; notices, edits and our own events are not."""
    if not isinstance(event, RoomMessageText) or event.sender == own_user_id:
        return None
    if _is_edit(event.source) or not isinstance(event.body, str):
        return None
    return IncomingText(
        event_id=EventId(event.event_id),
        room_id=RoomId(room_id),
        sender=UserId(event.sender),
        body=event.body,
        timestamp_ms=int(event.server_timestamp or 0),
        thread_root=thread_root(event.source),
    )


def to_incoming_file(room_id: str, event: Event, own_user_id: str) -> IncomingFile | None:
    """An m.file / m.image / m.audio / m.video from someone else, with a well-formed mxc URL; when its content
    is encrypted (`content.file`), with a well-formed key too.

    Per the spec (v1.10), `body` is a caption only when a `filename` is given and differs from it.
    """
    kind = _MEDIA_KINDS.get(type(event))
    if kind is None or not isinstance(event, RoomMessageMedia | RoomEncryptedMedia) or event.sender == own_user_id:
        return None
    content = event.source.get("content")
    if _is_edit(event.source) or not isinstance(content, dict) or not isinstance(event.body, str):
        return None
    if not isinstance(event.url, str) or not _MXC.fullmatch(event.url):
        return None
    media_key = _media_key(content.get("file")) if isinstance(event, RoomEncryptedMedia) else None
    if isinstance(event, RoomEncryptedMedia) and media_key is None:
        return None
    given = content.get("filename")
    filename = given if isinstance(given, str) and given else None
    info = content.get("info")
    info = info if isinstance(info, dict) else {}
    size, mime_type = info.get("size"), info.get("mimetype")
    return IncomingFile(
        event_id=EventId(event.event_id),
        room_id=RoomId(room_id),
        sender=UserId(event.sender),
        filename=event.body if filename is None else filename,
        caption=event.body if filename is not None and event.body != filename else "",
        kind=kind,
        mime_type=mime_type if isinstance(mime_type, str) else "",
        size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        media=event.url,
        timestamp_ms=int(event.server_timestamp or 0),
        media_key=media_key,
    )


def _media_key(file: Any) -> MediaKey | None:
    """The key of `content.file` (v2 attachments: an A256CTR JSON Web Key, a counter block, a SHA-256);
    None when anything is missing or malformed."""
    if not isinstance(file, dict):
        return None
    jwk, hashes, iv = file.get("key"), file.get("hashes"), file.get("iv")
    if not isinstance(jwk, dict) or not isinstance(hashes, dict) or jwk.get("alg") != "A256CTR":
        return None
    secret, sha256 = jwk.get("k"), hashes.get("sha256")
    if not isinstance(secret, str) or not isinstance(iv, str) or not isinstance(sha256, str):
        return None
    key = MediaKey(key=secret, iv=iv, sha256=sha256)
    return key if is_well_formed(key) else None


def reparsed_plain_file(event: Event) -> Event:
    """nio parses every file of a decrypted event as an encrypted attachment, so a file sent with a plain `url`
    into an encrypted room fails that schema and arrives as a BadEvent (its decrypted source kept): parsed
    again as a plain message it is read like any other file instead of being dropped unseen."""
    if isinstance(event, BadEvent) and event.source.get("type") == "m.room.message":
        return RoomMessage.parse_event(event.source)
    return event


def to_user_message(room_id: str, event: Event, own_user_id: str) -> UserMessage | None:
    """A text or a file from someone else (or one not decrypted yet): what goes to the inbox."""
    event = reparsed_plain_file(event)
    return (
        to_incoming_text(room_id, event, own_user_id)
        or to_incoming_file(room_id, event, own_user_id)
        or to_encrypted_message(room_id, event, own_user_id)
    )


def to_invitation(room_id: str, events: list[Any], own_user_id: str) -> Invitation | None:
    """The invite of our user in an invite-state room, with who sent it."""
    for event in events:
        if isinstance(event, InviteMemberEvent) and event.state_key == own_user_id and event.membership == "invite":
            return Invitation(room_id=RoomId(room_id), inviter=UserId(event.sender))
    return None


def to_room_event(room_id: str, event: Event, own_user_id: str) -> RoomEvent | None:
    """A text, a file, a room rename or a control (redaction); None for everything the bot does not act on."""
    if isinstance(event, RoomNameEvent) and isinstance(event.name, str):
        return RoomRenamed(
            event_id=EventId(event.event_id), room_id=RoomId(room_id), sender=UserId(event.sender), name=event.name
        )
    return to_user_message(room_id, event, own_user_id) or to_control_event(room_id, event, own_user_id)


def to_control_event(room_id: str, event: Event, own_user_id: str) -> ControlEvent | None:
    """A redaction, a 🔁 reaction or an edit of a text, by someone else; None for anything else."""
    if getattr(event, "sender", own_user_id) == own_user_id:
        return None
    if isinstance(event, RedactionEvent) and isinstance(event.redacts, str):
        return Redaction(
            event_id=EventId(event.event_id),
            room_id=RoomId(room_id),
            sender=UserId(event.sender),
            redacts=EventId(event.redacts),
        )
    if isinstance(event, ReactionEvent) and event.key in REGENERATE_KEYS and isinstance(event.reacts_to, str):
        return Reaction(
            event_id=EventId(event.event_id),
            room_id=RoomId(room_id),
            sender=UserId(event.sender),
            reacts_to=EventId(event.reacts_to),
            key=event.key,
            timestamp_ms=int(event.server_timestamp or 0),
        )
    return to_question_edited(room_id, event)


def to_question_edited(room_id: str, event: Event) -> QuestionEdited | None:
    """An `m.replace` of a text with a text `m.new_content`: the new text of the edited message."""
    if not isinstance(event, RoomMessageText) or not _is_edit(event.source):
        return None
    content = event.source["content"]
    new = content.get("m.new_content")
    target = content["m.relates_to"].get("event_id")
    body = new.get("body") if isinstance(new, dict) else None
    if not isinstance(body, str) or not isinstance(target, str) or not target:
        return None
    return QuestionEdited(
        event_id=EventId(event.event_id),
        room_id=RoomId(room_id),
        sender=UserId(event.sender),
        edits=EventId(target),
        body=body,
        timestamp_ms=int(event.server_timestamp or 0),
    )


def reply_target(source: dict[str, Any]) -> EventId | None:
    """The event a message replies to (`m.relates_to.m.in_reply_to.event_id`), if any."""
    content = source.get("content")
    relates = content.get("m.relates_to") if isinstance(content, dict) else None
    in_reply_to = relates.get("m.in_reply_to") if isinstance(relates, dict) else None
    target = in_reply_to.get("event_id") if isinstance(in_reply_to, dict) else None
    return EventId(target) if isinstance(target, str) and target else None


def thread_root(source: dict[str, Any]) -> EventId | None:
    """The root of the thread a message was written in (`m.relates_to` with `rel_type: m.thread`), if any."""
    content = source.get("content")
    relates = content.get("m.relates_to") if isinstance(content, dict) else None
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.thread":
        return None
    root = relates.get("event_id")
    return EventId(root) if isinstance(root, str) and root else None
