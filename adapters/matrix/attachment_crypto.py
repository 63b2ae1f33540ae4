"""Encrypted attachments (Matrix client-server spec, "Sending encrypted attachments", v2): AES-256-CTR over
the content as it streams, SHA-256 over the ciphertext."""

import hashlib
import hmac
import os
from base64 import b64decode, b64encode, urlsafe_b64encode
from binascii import Error as BinasciiError
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers.algorithms import AES
from cryptography.hazmat.primitives.ciphers.modes import CTR

from domain.model.media import MediaKey
from ports.media import MediaError, MediaIntegrityError

ALGORITHM: Final = "A256CTR"
_KEY_BYTES: Final = 32
_IV_BYTES: Final = 16
_HASH_BYTES: Final = 32


def jwk(key: MediaKey) -> dict[str, Any]:
    """The key as the JSON Web Key that `content.file.key` carries."""
    return {"kty": "oct", "key_ops": ["encrypt", "decrypt"], "alg": ALGORITHM, "k": key.key, "ext": True}


def is_well_formed(key: MediaKey) -> bool:
    """Whether the key, counter block and hash decode to the sizes AES-256-CTR and SHA-256 need."""
    try:
        _raw(key)
    except MediaError:
        return False
    return True


async def decrypted(chunks: AsyncIterator[bytes], key: MediaKey) -> AsyncIterator[bytes]:
    """The plaintext of `chunks`; MediaIntegrityError when the ciphertext does not match its hash.

    The last chunk is held back until the hash is checked, so a reader never holds the whole content of a
    file that fails the check (and an atomic write of the stream keeps nothing of it).
    """
    async with _closed_after(chunks):
        secret, iv, expected = _raw(key)
        decryptor = _cipher(secret, iv).decryptor()
        digest = hashlib.sha256()
        held = b""
        async for chunk in chunks:
            digest.update(chunk)
            if held:
                yield held
            held = decryptor.update(chunk)
    if not hmac.compare_digest(digest.digest(), expected):
        raise MediaIntegrityError("the content does not match its SHA-256 hash")
    held += decryptor.finalize()
    if held:
        yield held


class AttachmentEncryption:
    """Encrypts one file for an upload. Every pass over `chunks` (nio asks again when it retries) takes a fresh
    key, so a file that changed between attempts never reuses a key stream; `key` is that of the last complete pass.
    """

    def __init__(self, source: Callable[[], AsyncIterator[bytes]]) -> None:
        self._source = source
        self._key: MediaKey | None = None

    @property
    def key(self) -> MediaKey:
        if self._key is None:
            raise MediaError("the upload ended before all of the file was encrypted")
        return self._key

    async def chunks(self) -> AsyncIterator[bytes]:
        self._key = None
        # 8 random bytes and a 64-bit block counter starting at zero, as the spec asks.
        secret, iv = os.urandom(_KEY_BYTES), os.urandom(8) + bytes(8)
        encryptor = _cipher(secret, iv).encryptor()
        digest = hashlib.sha256()
        async with _closed_after(self._source()) as source:
            async for chunk in source:
                ciphertext = encryptor.update(chunk)
                digest.update(ciphertext)
                yield ciphertext
        tail = encryptor.finalize()  # empty: CTR is a stream mode
        digest.update(tail)
        if tail:
            yield tail
        self._key = MediaKey(
            key=_unpadded(urlsafe_b64encode(secret)),
            iv=_unpadded(b64encode(iv)),
            sha256=_unpadded(b64encode(digest.digest())),
        )


@asynccontextmanager
async def _closed_after(chunks: AsyncIterator[bytes]) -> AsyncIterator[AsyncIterator[bytes]]:
    """The chunks, closed on leaving: an abandoned download releases its connection now, not when collected."""
    try:
        yield chunks
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()


def _cipher(secret: bytes, iv: bytes) -> Cipher[CTR]:
    return Cipher(AES(secret), CTR(iv))


def _raw(key: MediaKey) -> tuple[bytes, bytes, bytes]:
    secret, iv, expected = _decoded(key.key), _decoded(key.iv), _decoded(key.sha256)
    if (len(secret), len(iv), len(expected)) != (_KEY_BYTES, _IV_BYTES, _HASH_BYTES):
        raise MediaError("not an AES-256-CTR key, counter block and SHA-256 hash")
    return secret, iv, expected


def _decoded(unpadded: str) -> bytes:
    """Unpadded standard or url-safe base64 (clients write `k` url-safe and the rest standard)."""
    try:
        return b64decode(unpadded + "=" * (-len(unpadded) % 4), altchars=b"-_", validate=True)
    except (BinasciiError, ValueError) as error:
        raise MediaError(f"not base64: {error}") from error


def _unpadded(encoded: bytes) -> str:
    return encoded.decode("ascii").rstrip("=")
