"""Images as image parts of a chat-completions message, for models that see (`vision: true`)."""

import asyncio
import base64
import os
from pathlib import Path
from typing import Final

from openai.types.chat import ChatCompletionContentPartParam

from adapters.workspace.emitted import open_inside
from domain.model.agent import AgentRequest
from domain.model.attachment import Attachment
from ports.workspace import PathRefused

# What chat-completions servers accept as image parts (OpenAI's list; Ollama and vLLM take the same).
IMAGE_TYPES: Final = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def seen_images(request: AgentRequest, max_bytes: int) -> list[Attachment]:
    """The request's images a model is shown: a supported type, within the size limit (larger ones go as paths,
    and the person is told by the bot)."""
    return [a for a in request.attachments if a.mime_type in IMAGE_TYPES and 0 < a.size <= max_bytes]


async def image_parts(root: Path, images: list[Attachment], max_bytes: int) -> list[ChatCompletionContentPartParam]:
    """Each image read from the workspace (never outside it) as a `data:` URL part; unreadable ones are left out."""
    parts: list[ChatCompletionContentPartParam] = []
    for image in images:
        data = await asyncio.to_thread(_read, root, image.workspace_path, max_bytes)
        if data is not None:
            url = f"data:{image.mime_type};base64,{base64.b64encode(data).decode('ascii')}"
            parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


def _read(root: Path, relative_path: str, max_bytes: int) -> bytes | None:
    try:
        fd = open_inside(root, relative_path)
    except PathRefused:
        return None
    with os.fdopen(fd, "rb") as file:
        data = file.read(max_bytes + 1)
    return data if len(data) <= max_bytes else None
