"""What an answer's content says about mentions: nobody is mentioned whenever the text could name a user or
the room (an `@`), and the key is left out of text that cannot (docs/security.md)."""

import pytest

from adapters.matrix.sender import file_content, message_content
from domain.model.media import MediaKey, UploadedMedia
from domain.model.outgoing_file import OutgoingFile


@pytest.mark.parametrize(
    "text",
    ["@room look", "ask @admin:example.org", "mail me at a@b.c", "`@room` in code", "**@ROOM**"],
)
def test_text_with_an_at_sign_mentions_nobody(text: str) -> None:
    assert message_content(text, "m.text")["m.mentions"] == {}


@pytest.mark.parametrize("text", ["hello", "burst 1 2 3", "a **bold** answer\n\n- one\n- two"])
def test_text_without_an_at_sign_carries_no_mentions_key(text: str) -> None:
    content = message_content(text, "m.text")
    assert "m.mentions" not in content
    assert content["format"] == "org.matrix.custom.html" and content["formatted_body"]


def test_a_file_named_with_an_at_sign_mentions_nobody() -> None:
    named = OutgoingFile(workspace_path="r.csv", filename="@room.csv", mime_type="text/csv", size=3)
    plain = OutgoingFile(workspace_path="r.csv", filename="report.csv", mime_type="text/csv", size=3)
    assert file_content(named, UploadedMedia(url="mxc://e/1"))["m.mentions"] == {}
    assert "m.mentions" not in file_content(plain, UploadedMedia(url="mxc://e/2"))


def test_an_encrypted_upload_is_referenced_only_through_file_with_its_key() -> None:
    image = OutgoingFile(workspace_path="p.png", filename="p.png", mime_type="image/png", size=9, width=4, height=3)
    key = MediaKey(key="a-url_safe-key", iv="AAECAwQFBgcAAAAAAAAAAA", sha256="c2hhMjU2")
    content = file_content(image, UploadedMedia(url="mxc://e/1", key=key))
    assert "url" not in content
    assert content["file"] == {
        "url": "mxc://e/1",
        "key": {"kty": "oct", "key_ops": ["encrypt", "decrypt"], "alg": "A256CTR", "k": "a-url_safe-key", "ext": True},
        "iv": "AAECAwQFBgcAAAAAAAAAAA",
        "hashes": {"sha256": "c2hhMjU2"},
        "v": "v2",
    }
    assert content["msgtype"] == "m.image"
    assert content["info"] == {"mimetype": "image/png", "size": 9, "w": 4, "h": 3}
