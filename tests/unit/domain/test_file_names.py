"""Names from outside become one safe path component; ids become distinct readable directories."""

import pytest

from domain.model.file_names import MAX_NAME_BYTES, safe_name, safe_segment
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import IncomingFile, MediaKind
from domain.model.sizes import human_size, megabytes
from domain.model.workspace_layout import inbox_path, room_inbox, safe_mime_type


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("report.pdf", "report.pdf"),
        ("Отчёт за май.docx", "Отчёт за май.docx"),
        ("../../etc/passwd", "etc_passwd"),
        ("..", "file"),
        (".", "file"),
        ("a/b\\c", "a_b_c"),
        ("/etc/passwd", "etc_passwd"),
        ("C:\\Windows\\win.ini", "C__Windows_win.ini"),
        ("evil\x00name.txt", "evilname.txt"),
        ("line\nbreak\r\t.txt", "linebreak.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("\u2066\u2067\u2068\u2069\u200e\u200f\u061cok.txt", "ok.txt"),
        ("\ufeffbom.txt", "bom.txt"),
        ("lone\ud800surrogate.txt", "lonesurrogate.txt"),
        ("", "file"),
        ("   ", "file"),
        ("...", "file"),
        (".bashrc", "bashrc"),
        ("  spaced name .  ", "spaced name"),
        ("trailing dots...", "trailing dots"),
        ("a..b....c", "a.b.c"),
        ('what?<is>:this|"*', "what__is__this___"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("com1.tar.gz", "_com1.tar.gz"),
        ("LPT9 .log", "_LPT9 .log"),
        ("console.log", "console.log"),
        ("many     spaces.txt", "many spaces.txt"),
    ],
)
def test_names_are_made_safe(sent: str, stored: str) -> None:
    assert safe_name(sent) == stored


def test_a_300_byte_name_is_cut_to_the_byte_budget_keeping_its_extension() -> None:
    name = "ж" * 150 + ".pdf"  # 304 bytes of UTF-8
    stored = safe_name(name)
    assert len(stored.encode()) <= MAX_NAME_BYTES
    assert stored.endswith(".pdf") and stored.startswith("жжж")
    stored.encode().decode()  # never a broken UTF-8 sequence


def test_a_long_name_without_extension_is_cut_at_a_character_boundary() -> None:
    stored = safe_name("😀" * 100)
    assert len(stored.encode()) <= MAX_NAME_BYTES and set(stored) == {"😀"}


def test_a_long_extension_is_not_kept_at_the_expense_of_the_name() -> None:
    stored = safe_name("a" * 200 + "." + "b" * 100)
    assert len(stored.encode()) <= MAX_NAME_BYTES and stored.startswith("a")


@pytest.mark.parametrize("name", ["x" * 500, "CON" + " " * 300, ".." * 200, "\x00" * 50, "/" * 300 + "a"])
def test_any_name_is_one_nonempty_component_within_budget(name: str) -> None:
    stored = safe_name(name)
    assert stored and "/" not in stored and "\\" not in stored and stored not in (".", "..")
    assert len(stored.encode()) <= MAX_NAME_BYTES


def test_segments_are_readable_and_distinct_for_ids_that_read_alike() -> None:
    alice = safe_segment("@alice:example.org")
    assert alice.startswith("alice_example.org-") and alice == safe_segment("@alice:example.org")
    # '/' and ':' both read as '_', so only the hash tells these two apart.
    assert safe_segment("@a/b:c") != safe_segment("@a_b:c")
    assert safe_segment("!AbC:example.org").startswith("AbC_example.org-")


@pytest.mark.parametrize("identifier", ["@../..:x", "!..:..", "@:", "", "@" + "x" * 300 + ":example.org"])
def test_segments_never_climb_and_stay_short(identifier: str) -> None:
    segment = safe_segment(identifier)
    assert segment not in (".", "..") and "/" not in segment and not segment.startswith(".")
    assert len(segment) <= 60


def a_file(filename: str = "report.pdf", timestamp_ms: int = 1_764_072_000_000, event_id: str = "$ev1") -> IncomingFile:
    return IncomingFile(
        event_id=EventId(event_id),
        room_id=RoomId("!room:example.org"),
        sender=UserId("@alice:example.org"),
        filename=filename,
        caption="",
        kind=MediaKind.FILE,
        mime_type="application/pdf",
        size=10,
        media="mxc://example.org/x",
        timestamp_ms=timestamp_ms,
    )


def test_the_inbox_path_is_relative_stamped_and_inside_the_rooms_inbox() -> None:
    path = inbox_path(a_file("../../etc/passwd"))
    inbox = room_inbox("@alice:example.org", "!room:example.org")
    assert inbox == f"surfaces/matrix/{safe_segment('@alice:example.org')}/{safe_segment('!room:example.org')}/inbox"
    directory, name = path.rsplit("/", 1)
    assert directory == inbox and not path.startswith("/")
    assert name.startswith("20251125T120000Z-") and name.endswith("-etc_passwd")
    assert ".." not in path.split("/")


def test_the_same_event_always_gets_the_same_path_and_other_events_another() -> None:
    assert inbox_path(a_file()) == inbox_path(a_file())
    assert inbox_path(a_file(event_id="$ev2")) != inbox_path(a_file())


def test_an_impossible_timestamp_still_gives_a_path() -> None:
    assert "/19700101T000000Z-" in inbox_path(a_file(timestamp_ms=2**62))


@pytest.mark.parametrize(
    ("declared", "kept"),
    [
        ("application/pdf", "application/pdf"),
        ("Text/Plain; charset=utf-8", "text/plain"),
        ("", "application/octet-stream"),
        ("text/html<script>", "application/octet-stream"),
        ("nonsense", "application/octet-stream"),
        ("a/b/c", "application/octet-stream"),
    ],
)
def test_declared_mime_types_are_kept_only_when_well_formed(declared: str, kept: str) -> None:
    assert safe_mime_type(declared) == kept


@pytest.mark.parametrize(
    ("size", "shown"), [(0, "0 bytes"), (1023, "1023 bytes"), (1536, "1.5 KB"), (megabytes(50), "50 MB")]
)
def test_sizes_read_as_people_write_them(size: int, shown: str) -> None:
    assert human_size(size) == shown
