"""References to file content in the chat network's media repository, and the key to an encrypted one."""

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class MediaKey:
    """What reading an encrypted file's content needs, as the sender's client wrote it.

    `key` is the AES-256 key (url-safe base64), `iv` the 16-byte counter block (base64), `sha256` the
    hash of the encrypted content (base64); all unpadded. The content is kept only once it matches `sha256`.
    """

    key: str
    iv: str
    sha256: str


@dataclass(frozen=True, kw_only=True)
class UploadedMedia:
    """Content the bot uploaded: its reference and, in an encrypted room, the key to read it."""

    url: str
    key: MediaKey | None = None
