"""A file the agent wrote, as it will be posted: name, type, size and, for images, dimensions."""

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class OutgoingFile:
    workspace_path: str  # relative to the workspace root, as the agent named it
    filename: str
    mime_type: str
    size: int
    width: int | None = None  # set only for images whose dimensions could be read
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.width is not None and self.height is not None
