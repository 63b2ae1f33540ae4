"""Byte counts as people read them."""

from typing import Final

KIB: Final = 1024
MIB: Final = 1024 * KIB


def megabytes(count: int) -> int:
    """`SURFACES_MAX_UPLOAD_MB` in bytes; MB means MiB, as in Synapse's `max_upload_size: 50M`."""
    return count * MIB


def human_size(size: int) -> str:
    """`532 bytes`, `12.5 KB`, `3 MB` (binary units, one decimal when it says something)."""
    if size < KIB:
        return f"{size} bytes"
    value, unit = (size / MIB, "MB") if size >= MIB else (size / KIB, "KB")
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"
