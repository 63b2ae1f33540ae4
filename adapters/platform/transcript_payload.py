"""A transcript as the context payload `!save` stores and `!load` hands back: the reference agent's format
(`{"version": 1, "messages": [{"role", "content"}, …]}`), so snapshots read the same across agents."""

import json
from collections.abc import Sequence

from domain.model.agent import AgentRequest
from ports.platform import PlatformError
from ports.transcripts import TranscriptEntry

VERSION = 1


def export_payload(entries: Sequence[TranscriptEntry]) -> str:
    messages = [{"role": entry.role, "content": entry.content} for entry in entries]
    return json.dumps({"version": VERSION, "messages": messages}, ensure_ascii=False)


def import_payload(payload: str) -> list[TranscriptEntry]:
    """The transcript in `payload`; PlatformError naming what is wrong when it is not one."""
    try:
        data = json.loads(payload)
    except ValueError as error:
        raise PlatformError(f"saved context is not valid JSON: {error}") from error
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("messages"), list):
        raise PlatformError('saved context must be {"version": 1, "messages": [...]}')
    return [_entry(index, message) for index, message in enumerate(data["messages"])]


def _entry(index: int, message: object) -> TranscriptEntry:
    if isinstance(message, dict) and isinstance(message.get("content"), str):
        if message.get("role") == "user":
            return TranscriptEntry(role="user", content=message["content"])
        if message.get("role") == "assistant":
            return TranscriptEntry(role="assistant", content=message["content"])
    raise PlatformError(f"saved context: messages.{index} must have role user or assistant and a text content")


def user_content(request: AgentRequest) -> str:
    """The user's turn as sent upstream and kept in the transcript: the text, then a line per attachment.
    The model cannot open workspace files, so it is told what was attached rather than left unaware."""
    lines = [
        f"[Attached {a.kind}: {a.filename} ({a.mime_type}, {a.size} bytes) at {a.workspace_path}]"
        for a in request.attachments
    ]
    return "\n\n".join([request.text, "\n".join(lines)]) if lines else request.text
