from typing import Protocol

from domain.model.attachment import Attachment
from ports.platform import PlatformError


class TranscriptionFailed(PlatformError):
    """The transcriber could not be reached or failed; retried like an agent."""


class Transcriber(Protocol):
    """Turns a voice message stored in the shared workspace into text."""

    async def transcribe(self, audio: Attachment) -> str:
        """The words spoken in `audio`; raises TranscriptionFailed when they cannot be had now."""
        ...
