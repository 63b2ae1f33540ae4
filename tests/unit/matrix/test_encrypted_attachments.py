"""Encrypted attachments, checked against matrix-nio's own implementation (nio.crypto.attachments): what nio
encrypts we decrypt as it streams, what we encrypt nio decrypts; a ciphertext that does not match its hash
is refused and leaves nothing in the workspace."""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nio.crypto.attachments import decrypt_attachment, encrypt_attachment

from adapters.matrix.attachment_crypto import AttachmentEncryption, decrypted, is_well_formed
from adapters.workspace.local import LocalWorkspace
from domain.model.media import MediaKey
from ports.media import MediaError, MediaIntegrityError, MediaTooLarge
from tests.unit.matrix.test_media import ENCRYPTED_ROOM, MediaServer, a_file, media_store

PLAINTEXT = os.urandom(100_003)  # not a whole number of AES blocks
INBOX = "surfaces/matrix/alice-1/room-2/inbox"


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def nio_encrypted(plaintext: bytes) -> tuple[bytes, MediaKey]:
    ciphertext, info = encrypt_attachment(plaintext)
    return ciphertext, MediaKey(key=info["key"]["k"], iv=info["iv"], sha256=info["hashes"]["sha256"])


def nio_decrypted(ciphertext: bytes, key: MediaKey) -> bytes:
    return bytes(decrypt_attachment(ciphertext, key.key, key.sha256, key.iv))


async def read(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def tampered(ciphertext: bytes) -> bytes:
    return ciphertext[:-1] + bytes([ciphertext[-1] ^ 1])


@pytest.mark.parametrize("size", [1, 7, 16, 4096, 1_000_000])
async def test_what_nio_encrypts_is_decrypted_as_it_streams(size: int) -> None:
    ciphertext, key = nio_encrypted(PLAINTEXT)
    assert await read(decrypted(pieces(ciphertext, size), key)) == PLAINTEXT


async def test_an_empty_file_decrypts_to_nothing() -> None:
    ciphertext, key = nio_encrypted(b"")
    assert await read(decrypted(pieces(ciphertext, 10), key)) == b""


async def test_what_we_encrypt_nio_decrypts() -> None:
    encryption = AttachmentEncryption(a_file(PLAINTEXT).chunks)
    ciphertext = await read(encryption.chunks())
    assert ciphertext != PLAINTEXT and len(ciphertext) == len(PLAINTEXT)
    assert nio_decrypted(ciphertext, encryption.key) == PLAINTEXT
    assert is_well_formed(encryption.key)


async def test_every_pass_takes_a_fresh_key_and_the_key_is_that_of_the_last() -> None:
    encryption = AttachmentEncryption(a_file(PLAINTEXT).chunks)
    first = await read(encryption.chunks())
    first_key = encryption.key
    second = await read(encryption.chunks())
    assert first_key != encryption.key and first != second
    assert nio_decrypted(second, encryption.key) == PLAINTEXT


async def test_no_key_is_given_for_a_pass_that_did_not_finish() -> None:
    encryption = AttachmentEncryption(a_file(PLAINTEXT).chunks)
    partial = encryption.chunks()
    await anext(partial)
    with pytest.raises(MediaError):
        _ = encryption.key


async def test_a_tampered_ciphertext_fails_before_its_last_chunk() -> None:
    ciphertext, key = nio_encrypted(PLAINTEXT)
    received = bytearray()
    with pytest.raises(MediaIntegrityError):
        async for chunk in decrypted(pieces(tampered(ciphertext), 1000), key):
            received += chunk
    assert len(received) < len(PLAINTEXT)  # the whole content never reached the reader


async def test_the_wrong_hash_fails_too() -> None:
    ciphertext, key = nio_encrypted(PLAINTEXT)
    _, other = nio_encrypted(PLAINTEXT)
    wrong = MediaKey(key=key.key, iv=key.iv, sha256=other.sha256)
    with pytest.raises(MediaIntegrityError):
        await read(decrypted(pieces(ciphertext, 1000), wrong))


@pytest.mark.parametrize(
    "key",
    [
        MediaKey(key="c2hvcnQ", iv="AAAAAAAAAAAAAAAAAAAAAA", sha256="A" * 43),  # a 5-byte key
        MediaKey(key="A" * 43, iv="AAAAAAAA", sha256="A" * 43),  # a 6-byte counter block
        MediaKey(key="A" * 43, iv="AAAAAAAAAAAAAAAAAAAAAA", sha256="AAAA"),
        MediaKey(key="not base64!", iv="AAAAAAAAAAAAAAAAAAAAAA", sha256="A" * 43),
    ],
)
async def test_a_malformed_key_is_refused_before_anything_is_read(key: MediaKey) -> None:
    read_from: list[bytes] = []

    async def source() -> AsyncIterator[bytes]:
        read_from.append(b"")
        yield b"x"

    assert not is_well_formed(key)
    with pytest.raises(MediaError):
        await read(decrypted(source(), key))
    assert read_from == []


# -- through NioMediaStore and the real workspace --------------------------------------------------------


def every_file(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if not path.is_dir()}


async def test_an_encrypted_download_lands_decrypted_in_the_workspace(tmp_path: Path) -> None:
    ciphertext, key = nio_encrypted(PLAINTEXT)
    workspace = LocalWorkspace(tmp_path)
    async with media_store(MediaServer(stored={"enc": ciphertext})) as store:
        size = await workspace.write(f"{INBOX}/a.bin", store.download("mxc://example.org/enc", 1_000_000, key), 10**6)
    assert size == len(PLAINTEXT) and (tmp_path / INBOX / "a.bin").read_bytes() == PLAINTEXT


async def test_a_tampered_download_leaves_nothing_in_the_workspace(tmp_path: Path) -> None:
    ciphertext, key = nio_encrypted(PLAINTEXT)
    workspace = LocalWorkspace(tmp_path)
    async with media_store(MediaServer(stored={"enc": tampered(ciphertext)})) as store:
        with pytest.raises(MediaIntegrityError):
            await workspace.write(f"{INBOX}/a.bin", store.download("mxc://example.org/enc", 1_000_000, key), 10**6)
    assert every_file(tmp_path) == set()


async def test_the_cap_holds_for_encrypted_downloads() -> None:
    ciphertext, key = nio_encrypted(PLAINTEXT)
    async with media_store(MediaServer(stored={"enc": ciphertext})) as store:
        with pytest.raises(MediaTooLarge):
            await read(store.download("mxc://example.org/enc", len(PLAINTEXT) - 1, key))


async def test_an_upload_into_an_encrypted_room_is_ciphertext_that_nio_decrypts() -> None:
    server = MediaServer(upload_limit=None)
    async with media_store(server) as store:
        uploaded = await store.upload(a_file(PLAINTEXT), ENCRYPTED_ROOM)
    assert uploaded.url == "mxc://example.org/up1" and uploaded.key is not None
    [body] = server.uploads
    assert body != PLAINTEXT and nio_decrypted(body, uploaded.key) == PLAINTEXT
    # Neither the name nor the type reaches the homeserver.
    assert server.upload_queries == [{"content-type": "application/octet-stream"}]


async def test_a_retried_encrypted_upload_returns_the_key_of_what_was_stored() -> None:
    server = MediaServer(upload_limit=None, refuse_next_uploads=2)
    async with media_store(server) as store:
        uploaded = await store.upload(a_file(PLAINTEXT), ENCRYPTED_ROOM)
    assert server.refuse_next_uploads == 0 and len(server.uploads) == 1  # sent three times, stored once
    assert uploaded.key is not None and nio_decrypted(server.uploads[0], uploaded.key) == PLAINTEXT
