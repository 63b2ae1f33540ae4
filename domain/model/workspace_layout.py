"""Where the bot puts files in the shared workspace: paths relative to its root, built from safe parts."""

import hashlib
import re
from datetime import UTC, datetime
from typing import Final

from domain.model.file_names import safe_name, safe_segment
from domain.model.messages import IncomingFile

MATRIX_PREFIX: Final = "surfaces/matrix"
_MIME_TYPE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,127}")
GENERIC_MIME_TYPE: Final = "application/octet-stream"


def room_inbox(sender: str, room_id: str) -> str:
    """`surfaces/matrix/{safe_user}/{safe_room}/inbox`: one directory per person and room."""
    return f"{MATRIX_PREFIX}/{safe_segment(sender)}/{safe_segment(room_id)}/inbox"


def inbox_path(file: IncomingFile) -> str:
    """`{room_inbox}/{stamp}-{safe_name}`. The stamp is the event's time plus a short hash of its id,
    so the same event always lands on the same path (a retry overwrites, never duplicates) and two
    files of the same name never collide."""
    return f"{room_inbox(file.sender, file.room_id)}/{_stamp(file)}-{safe_name(file.filename)}"


def safe_mime_type(declared: str) -> str:
    """The declared `type/subtype` (parameters dropped) when well formed, else the generic type."""
    bare = declared.split(";", 1)[0].strip().lower()
    return bare if _MIME_TYPE.fullmatch(bare) else GENERIC_MIME_TYPE


def _stamp(file: IncomingFile) -> str:
    try:
        when = datetime.fromtimestamp(file.timestamp_ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        when = datetime.fromtimestamp(0, UTC)  # a timestamp no calendar holds: the hash still tells files apart
    tag = hashlib.sha256(file.event_id.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return f"{when:%Y%m%dT%H%M%SZ}-{tag}"
