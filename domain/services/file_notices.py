"""Helpers the file use cases share: how untrusted names are shown, and the effective size limit."""

from typing import Final

from ports.media import MediaStore

SHOWN_CHARS: Final = 80


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """Untrusted text (a file name, an agent's path) as an inert one-line Markdown code span."""
    clean = "".join(c if c.isprintable() else "?" for c in text).replace("`", "'")
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return f"`{clean or ' '}`"


async def size_limit(media: MediaStore, configured: int) -> int:
    """`SURFACES_MAX_UPLOAD_MB`, or the homeserver's upload limit when that is smaller."""
    server = await media.upload_limit()
    return min(configured, server) if server else configured
