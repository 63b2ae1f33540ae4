"""What arrives from the chat network, as the domain sees it."""

from dataclasses import dataclass
from enum import StrEnum

from domain.model.controls import ControlEvent
from domain.model.ids import EventId, RoomId, UserId
from domain.model.media import MediaKey


@dataclass(frozen=True, kw_only=True)
class IncomingText:
    event_id: EventId
    room_id: RoomId
    sender: UserId
    body: str
    timestamp_ms: int = 0
    thread_root: EventId | None = None  # the root of the `m.thread` the message was written in, if any


class MediaKind(StrEnum):
    """What a file message is, in the platform contract's words (Matrix says `m.file`, `m.image`, ...)."""

    FILE = "file"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"


@dataclass(frozen=True, kw_only=True)
class IncomingFile:
    """A file, image, audio or video message; every field except the ids is as the sender wrote it.

    `filename` is untrusted (sanitise before use), `caption` is "" for a bare file, `size` is the
    declared size (None when not given), `media` the chat network's opaque reference to the content,
    `media_key` the key to it when it is encrypted (None when it is not).
    """

    event_id: EventId
    room_id: RoomId
    sender: UserId
    filename: str
    caption: str
    kind: MediaKind
    mime_type: str
    size: int | None
    media: str
    timestamp_ms: int = 0
    media_key: MediaKey | None = None

    @property
    def body(self) -> str:
        """The caption: what a person wrote with the file, as a text message's body."""
        return self.caption


@dataclass(frozen=True, kw_only=True)
class Invitation:
    room_id: RoomId
    inviter: UserId


@dataclass(frozen=True, kw_only=True)
class RoomRenamed:
    """A new `m.room.name` in a room, whoever set it (the bot, or the person in their client)."""

    event_id: EventId
    room_id: RoomId
    sender: UserId
    name: str


@dataclass(frozen=True, kw_only=True)
class EncryptedMessage:
    """A message the bot could not decrypt when it arrived (its key had not come yet).

    `ciphertext` is the chat network's encrypted event as it arrived, opaque here: it is kept in the inbox
    so that the message can still be read once its key comes, after a restart too.
    """

    event_id: EventId
    room_id: RoomId
    sender: UserId
    ciphertext: str
    timestamp_ms: int = 0

    @property
    def body(self) -> str:
        return ""


@dataclass(frozen=True, kw_only=True)
class UnreadableMessage:
    """A message whose key never came within the wait: the person is told once to send it again."""

    event_id: EventId
    room_id: RoomId
    sender: UserId
    timestamp_ms: int = 0

    @property
    def body(self) -> str:
        return ""


# What a person says in a room: recorded in the inbox and answered exactly once.
UserMessage = IncomingText | IncomingFile | EncryptedMessage | UnreadableMessage
RoomEvent = IncomingText | IncomingFile | EncryptedMessage | UnreadableMessage | RoomRenamed | ControlEvent
