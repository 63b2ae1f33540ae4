"""What an answer's content says about mentions: nobody is mentioned whenever the text could name a user or
the room (an `@`), and the key is left out of text that cannot (docs/security.md)."""

import pytest

from adapters.matrix.sender import file_content, message_content
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
    assert file_content(named, "mxc://e/1")["m.mentions"] == {}
    assert "m.mentions" not in file_content(plain, "mxc://e/2")
