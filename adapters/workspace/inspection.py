"""What kind of file an agent wrote: the mimetype from its content (filetype), and an image's size (Pillow)."""

import mimetypes
import os
import warnings
from typing import Final

import filetype

from domain.model.workspace_layout import GENERIC_MIME_TYPE

# filetype recognises every format it knows from this many leading bytes.
SNIFF_BYTES: Final = 8192


def sniff_mime_type(fd: int, filename: str) -> str:
    """By content first (a `.png` that is really a zip says so), then by name, then generic."""
    kind = filetype.guess(os.pread(fd, SNIFF_BYTES, 0))
    if kind is not None:
        return str(kind.mime)
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or GENERIC_MIME_TYPE


def image_size(fd: int, mime_type: str) -> tuple[int, int] | None:
    """(width, height) from the image header; None for anything Pillow cannot read as an image.

    Only the header is parsed, never the pixels, so a decompression bomb costs nothing; Pillow's own
    bomb check still refuses absurd dimensions, and such a file is then posted as a plain file.
    """
    if not mime_type.startswith("image/"):
        return None
    # Imported on the first image an agent posts, not at start-up: Pillow costs about 6 MB resident.
    from PIL import Image

    try:
        with os.fdopen(os.dup(fd), "rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(handle) as image:
                width, height = image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    return (width, height) if width > 0 and height > 0 else None
