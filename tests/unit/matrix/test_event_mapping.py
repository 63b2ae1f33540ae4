"""event_mapping: nio events to domain values, with anything odd mapping to None rather than raising."""

from typing import Any

import nio
import pytest
from nio import Event

from adapters.matrix.event_mapping import reply_target, to_incoming_text, to_room_event, to_user_message
from domain.model.controls import QuestionEdited, Reaction, Redaction
from domain.model.media import MediaKey
from domain.model.messages import IncomingFile, IncomingText, MediaKind, RoomRenamed
from tests.unit.matrix.sync_json import ALICE, BOT, CHAT, edit, message, reply, state


def parsed(raw: dict[str, Any]) -> Event:
    return Event.parse_event(raw)


def test_a_text_from_someone_else_is_incoming() -> None:
    raw = message("hi")
    assert to_incoming_text(CHAT, parsed(raw), BOT) == IncomingText(
        event_id=raw["event_id"], room_id=CHAT, sender=ALICE, body="hi", timestamp_ms=2
    )


@pytest.mark.parametrize(
    "raw",
    [
        message("mine", sender=BOT),
        message("a notice", msgtype="m.notice"),
        message("an emote", msgtype="m.emote"),
        message("mine.pdf", sender=BOT, msgtype="m.file", url="mxc://example.org/f"),
        message("no url", msgtype="m.file"),
        message("bad url", msgtype="m.file", url="https://example.org/f"),
        message("traversal", msgtype="m.image", url="mxc://example.org/../x"),
        message("encrypted", msgtype="m.file", file={"url": "mxc://example.org/f"}),
        {**message("x", msgtype="m.file", url="mxc://example.org/f"), "content": {"msgtype": "m.file", "url": 5}},
        {**message("x"), "content": {"msgtype": "m.text", "body": 5}},  # BadEvent
        {**message("x"), "content": {"msgtype": "m.text"}},  # no body
        {**message("x"), "content": "not a dict"},
        {**message("x"), "unsigned": {"redacted_because": {"type": "m.room.redaction"}}, "content": {}},
        {"type": "m.room.message", "content": {"msgtype": "m.text", "body": "no sender"}, "event_id": "$n"},
        {"type": "m.reaction", "content": {}, "sender": ALICE, "event_id": "$r", "origin_server_ts": 1},
        state("dev.surfaces.room", {"owner": ALICE}),
        state("m.room.name", {"name": 5}, sender=ALICE),  # BadEvent
    ],
    ids=lambda raw: str(raw.get("content"))[:50],
)
def test_what_the_bot_does_not_act_on_maps_to_none(raw: dict[str, Any]) -> None:
    assert to_room_event(CHAT, parsed(raw), BOT) is None


def test_an_edit_with_a_non_dict_relation_is_still_a_text() -> None:
    raw = message("hi", **{"m.relates_to": "garbage"})
    assert isinstance(to_room_event(CHAT, parsed(raw), BOT), IncomingText)


def test_a_rename_maps_whoever_made_it() -> None:
    raw = state("m.room.name", {"name": "Plans"}, sender=BOT)
    assert to_room_event(CHAT, parsed(raw), BOT) == RoomRenamed(
        event_id=raw["event_id"], room_id=CHAT, sender=BOT, name="Plans"
    )


def test_reply_target_reads_the_in_reply_to_relation() -> None:
    assert reply_target(reply("$asked")) == "$asked"


@pytest.mark.parametrize(
    "content",
    [
        {"body": "plain"},
        {"m.relates_to": None},
        {"m.relates_to": {"m.in_reply_to": "$x"}},
        {"m.relates_to": {"m.in_reply_to": {"event_id": 5}}},
        {"m.relates_to": {"m.in_reply_to": {"event_id": ""}}},
        {"m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}},
        "not a dict",
    ],
)
def test_reply_target_is_none_without_a_well_formed_reply(content: Any) -> None:
    assert reply_target({"type": "m.room.message", "content": content}) is None


def test_reply_target_copes_without_content() -> None:
    assert reply_target({"type": "m.room.message"}) is None


@pytest.mark.parametrize(
    ("msgtype", "kind"),
    [
        ("m.file", MediaKind.FILE),
        ("m.image", MediaKind.IMAGE),
        ("m.audio", MediaKind.AUDIO),
        ("m.video", MediaKind.VIDEO),
    ],
)
def test_a_file_from_someone_else_is_incoming_with_what_it_declared(msgtype: str, kind: MediaKind) -> None:
    info = {"mimetype": "application/pdf", "size": 1234}
    raw = message("report.pdf", msgtype=msgtype, url="mxc://example.org/abc_-1", info=info)
    assert to_room_event(CHAT, parsed(raw), BOT) == IncomingFile(
        event_id=raw["event_id"],
        room_id=CHAT,
        sender=ALICE,
        filename="report.pdf",
        caption="",
        kind=kind,
        mime_type="application/pdf",
        size=1234,
        media="mxc://example.org/abc_-1",
        timestamp_ms=2,
    )


def test_a_body_that_differs_from_the_filename_is_a_caption() -> None:
    raw = message("what is in it?", msgtype="m.file", url="mxc://example.org/f", filename="data.csv")
    mapped = to_room_event(CHAT, parsed(raw), BOT)
    assert isinstance(mapped, IncomingFile)
    assert (mapped.filename, mapped.caption, mapped.body) == ("data.csv", "what is in it?", "what is in it?")


def test_a_body_equal_to_the_filename_is_no_caption() -> None:
    raw = message("data.csv", msgtype="m.file", url="mxc://example.org/f", filename="data.csv")
    mapped = to_room_event(CHAT, parsed(raw), BOT)
    assert isinstance(mapped, IncomingFile) and mapped.caption == ""


@pytest.mark.parametrize("info", [None, "x", {"size": "12"}, {"size": -1}, {"size": True}, {"mimetype": 5}])
def test_malformed_info_reads_as_unknown(info: Any) -> None:
    raw = message("f", msgtype="m.file", url="mxc://example.org/f", info=info)
    mapped = to_room_event(CHAT, parsed(raw), BOT)
    assert isinstance(mapped, IncomingFile)
    assert mapped.mime_type in ("", info.get("mimetype") if isinstance(info, dict) else "")
    assert mapped.size is None


def test_hostile_names_are_kept_as_sent_for_the_domain_to_sanitise() -> None:
    raw = message("../../etc/passwd", msgtype="m.file", url="mxc://example.org/f")
    mapped = to_room_event(CHAT, parsed(raw), BOT)
    assert isinstance(mapped, IncomingFile) and mapped.filename == "../../etc/passwd"


# -- encrypted attachments (decrypted events whose content is still encrypted) -----------------------------

KEY = "-_8AZm9yIHRlc3RzIG9ubHksIDMyIGJ5dGVzIGxvbv4"  # 32 bytes, url-safe unpadded
IV = "AAECAwQFBgcAAAAAAAAAAA"  # 16 bytes, the counter half zero
SHA256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"  # 32 bytes


def encrypted_file(
    url: str = "mxc://example.org/enc", key: Any = KEY, iv: Any = IV, sha256: Any = SHA256, alg: Any = "A256CTR"
) -> dict[str, Any]:
    jwk = {"kty": "oct", "key_ops": ["encrypt", "decrypt"], "alg": alg, "k": key, "ext": True}
    return {"url": url, "key": jwk, "iv": iv, "hashes": {"sha256": sha256}, "v": "v2"}


def decrypted(raw: dict[str, Any]) -> Event:
    return Event.parse_decrypted_event(raw)


@pytest.mark.parametrize(
    ("msgtype", "kind"),
    [
        ("m.file", MediaKind.FILE),
        ("m.image", MediaKind.IMAGE),
        ("m.audio", MediaKind.AUDIO),
        ("m.video", MediaKind.VIDEO),
    ],
)
def test_an_encrypted_file_is_incoming_with_its_key(msgtype: str, kind: MediaKind) -> None:
    raw = message("a.pdf", msgtype=msgtype, file=encrypted_file(), info={"mimetype": "application/pdf", "size": 9})
    assert to_room_event(CHAT, decrypted(raw), BOT) == IncomingFile(
        event_id=raw["event_id"],
        room_id=CHAT,
        sender=ALICE,
        filename="a.pdf",
        caption="",
        kind=kind,
        mime_type="application/pdf",
        size=9,
        media="mxc://example.org/enc",
        timestamp_ms=2,
        media_key=MediaKey(key=KEY, iv=IV, sha256=SHA256),
    )


def test_an_encrypted_file_keeps_its_caption() -> None:
    raw = message("look at this", msgtype="m.file", file=encrypted_file(), filename="data.csv")
    mapped = to_room_event(CHAT, decrypted(raw), BOT)
    assert isinstance(mapped, IncomingFile) and (mapped.filename, mapped.caption) == ("data.csv", "look at this")


@pytest.mark.parametrize(
    "file",
    [
        encrypted_file(url="https://example.org/enc"),
        encrypted_file(url="mxc://example.org/../x"),
        encrypted_file(key="c2hvcnQ"),  # not 32 bytes
        encrypted_file(key="not base64!"),
        encrypted_file(iv="AAAA"),
        encrypted_file(sha256="AAAA"),
        encrypted_file(sha256=5),
        encrypted_file(alg="A128CTR"),
        {**encrypted_file(), "hashes": "x"},
        {**encrypted_file(), "hashes": {}},
    ],
    ids=lambda file: str(file)[:60],
)
def test_a_malformed_encrypted_file_is_ignored(file: dict[str, Any]) -> None:
    raw = message("a.pdf", msgtype="m.file", file=file)
    assert to_room_event(CHAT, decrypted(raw), BOT) is None


def test_our_own_encrypted_file_is_ignored() -> None:
    raw = message("a.pdf", sender=BOT, msgtype="m.file", file=encrypted_file())
    assert to_room_event(CHAT, decrypted(raw), BOT) is None


def test_a_plain_url_file_inside_an_encrypted_room_is_read_not_dropped() -> None:
    source = {
        "type": "m.room.message",
        "event_id": "$plainfile",
        "sender": "@alice:example.org",
        "origin_server_ts": 1,
        "content": {"msgtype": "m.file", "body": "a.txt", "url": "mxc://example.org/abc"},
    }
    decrypted = nio.Event.parse_decrypted_event(source)  # nio wants `file`: a BadEvent
    mapped = to_user_message("!room:example.org", decrypted, "@bot:example.org")
    assert mapped is not None and getattr(mapped, "media", None) == "mxc://example.org/abc"


def test_a_threaded_text_carries_its_thread_root() -> None:
    raw = message("in thread", **{"m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}})
    mapped = to_incoming_text(CHAT, parsed(raw), BOT)
    assert mapped is not None and mapped.thread_root == "$root"


def test_a_plain_reply_is_in_no_thread() -> None:
    mapped = to_incoming_text(CHAT, parsed(reply("$q", sender=ALICE)), BOT)
    assert mapped is not None and mapped.thread_root is None


def test_a_redaction_by_someone_else_maps_to_a_control_event() -> None:
    raw = {"type": "m.room.redaction", "redacts": "$q", "content": {}, "sender": ALICE, "event_id": "$x"}
    raw["origin_server_ts"] = 1
    assert to_room_event(CHAT, parsed(raw), BOT) == Redaction(event_id="$x", room_id=CHAT, sender=ALICE, redacts="$q")
    assert to_room_event(CHAT, parsed({**raw, "sender": BOT}), BOT) is None


@pytest.mark.parametrize("key", ["\U0001f501", "\U0001f501\ufe0f"])
def test_a_regenerate_reaction_maps_to_a_reaction(key: str) -> None:
    raw = {
        "type": "m.reaction",
        "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$a", "key": key}},
        "sender": ALICE,
        "event_id": "$r",
        "origin_server_ts": 1,
    }
    assert to_room_event(CHAT, parsed(raw), BOT) == Reaction(
        event_id="$r", room_id=CHAT, sender=ALICE, reacts_to="$a", key=key, timestamp_ms=1
    )


def test_other_reactions_and_our_own_are_not_acted_on() -> None:
    relates = {"rel_type": "m.annotation", "event_id": "$a", "key": "👍"}
    raw = {"type": "m.reaction", "content": {"m.relates_to": relates}, "sender": ALICE, "event_id": "$r"}
    assert to_room_event(CHAT, parsed({**raw, "origin_server_ts": 1}), BOT) is None
    mine = {**raw, "sender": BOT, "origin_server_ts": 1, "content": {"m.relates_to": {**relates, "key": "🔁"}}}
    assert to_room_event(CHAT, parsed(mine), BOT) is None


def test_an_edit_of_a_text_maps_to_the_new_text_of_the_original_event() -> None:
    raw = edit("$q", "fixed typo")
    mapped = to_room_event(CHAT, parsed(raw), BOT)
    assert mapped == QuestionEdited(
        event_id=raw["event_id"], room_id=CHAT, sender=ALICE, edits="$q", body="fixed typo", timestamp_ms=2
    )
    assert to_room_event(CHAT, parsed(edit("$q", "mine", sender=BOT)), BOT) is None
