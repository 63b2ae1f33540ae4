"""Safe names for anything from outside that ends up in a path: file names and Matrix ids."""

import hashlib
import re
import unicodedata
from typing import Final

MAX_NAME_BYTES: Final = 120
FALLBACK_NAME: Final = "file"
# Bidirectional controls can make `evil\u202egnp.exe` read as `evilexe.png`.
_BIDI: Final = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
# Control (incl. NUL), lone surrogates (not encodable), line/paragraph separators, format characters
# like the BOM and zero-width space that hide in names.
_DROPPED_CATEGORIES: Final = frozenset({"Cc", "Cs", "Zl", "Zp"})
_INVISIBLE: Final = frozenset({0xFEFF, 0x200B, 0x2060})
_SEPARATORS: Final = re.compile(r"[/\\]+")
# Characters Windows, macOS and shells treat specially; harmless on Linux, replaced for whoever reads next.
_AWKWARD: Final = re.compile(r'[<>:"|?*]')
_DOT_RUNS: Final = re.compile(r"\.{2,}")
_EXTENSION: Final = re.compile(r"\.[^.\s]{1,16}$")
_WINDOWS_RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{port}{n}" for port in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]}
)
_SEGMENT_UNSAFE: Final = re.compile(r"[^A-Za-z0-9.=-]+")
SEGMENT_READABLE_CHARS: Final = 48


def safe_name(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """One path component from any text: no separators, `..`, control or bidi characters, reserved
    names, leading or trailing dots and spaces; at most `max_bytes` of UTF-8, the extension kept;
    "file" when nothing is left."""
    text = "".join(c for c in unicodedata.normalize("NFC", name) if not _dropped(c))
    # Each path part is kept but `.` and `..` parts are dropped: `../../etc/passwd` -> `etc_passwd`.
    parts = [part for part in _SEPARATORS.split(text) if part.strip(" .")]
    text = _DOT_RUNS.sub(".", _AWKWARD.sub("_", "_".join(parts)))
    text = _tidy(_truncate(_tidy(" ".join(text.split())), max_bytes)) or FALLBACK_NAME
    if _stem(text).upper() in _WINDOWS_RESERVED:
        # Cut from the end, so the prefix stays and the stem cannot become reserved again.
        text = _truncate(f"_{text}", max_bytes)
    return text


def safe_segment(identifier: str) -> str:
    """A directory name for a Matrix id (`@alice:example.org`, `!room:example.org`): readable, and
    distinct for distinct ids because a short hash of the whole id follows the readable part."""
    readable = _SEGMENT_UNSAFE.sub("_", identifier.lstrip("@!#+$")).strip("._-")[:SEGMENT_READABLE_CHARS]
    digest = hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{readable or 'id'}-{digest}"


def _dropped(char: str) -> bool:
    code = ord(char)
    return code in _BIDI or code in _INVISIBLE or unicodedata.category(char) in _DROPPED_CATEGORIES


def _tidy(text: str) -> str:
    return text.strip(" .")


def _stem(text: str) -> str:
    return text.split(".", 1)[0].rstrip(" ")


def _truncate(text: str, max_bytes: int) -> str:
    if len(text.encode()) <= max_bytes:
        return text
    match = _EXTENSION.search(text)
    extension = match.group(0) if match and len(match.group(0).encode()) < max_bytes // 2 else ""
    stem = text[: len(text) - len(extension)]
    budget = max_bytes - len(extension.encode())
    # Cut at a character boundary: a partial UTF-8 sequence is dropped, never kept broken.
    cut = stem.encode()[:budget].decode("utf-8", "ignore")
    return f"{_tidy(cut) or FALLBACK_NAME}{extension}"
