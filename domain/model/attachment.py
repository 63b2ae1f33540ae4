"""A file handed to an agent through the shared workspace."""

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Attachment:
    """`workspace_path` is relative to the workspace root, never absolute."""

    kind: str  # file, image, audio or video (a MediaKind value)
    filename: str
    mime_type: str
    size: int
    workspace_path: str
