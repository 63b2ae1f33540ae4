"""Transcriber over an OpenAI-compatible `POST {base_url}/audio/transcriptions` (OpenAI, whisper.cpp, faster-whisper
servers, vLLM), reading the audio from the shared workspace."""

import asyncio
import os
from pathlib import Path

import httpx

from adapters.workspace.emitted import open_inside
from domain.model.attachment import Attachment
from ports.transcriber import Transcriber, TranscriptionFailed
from ports.workspace import PathRefused


class OpenAITranscriber(Transcriber):
    """Sends the file as multipart `file` with `model`; any failure (unreachable, timed out, an error status, no
    `text` in the answer) is TranscriptionFailed, so the bot retries it with back-off and tells the person once."""

    def __init__(
        self, base_url: str, model: str, workspace_dir: Path, api_key: str | None = None, timeout_s: float = 120.0
    ) -> None:
        self._model = model
        self._root = workspace_dir
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)

    async def transcribe(self, audio: Attachment) -> str:
        try:
            data = await asyncio.to_thread(_read, self._root, audio.workspace_path)
        except PathRefused as error:
            raise TranscriptionFailed(f"the voice message is not in the workspace: {error}") from error
        files = {"file": (audio.filename, data, audio.mime_type or "application/octet-stream")}
        try:
            response = await self._client.post("/audio/transcriptions", data={"model": self._model}, files=files)
        except httpx.HTTPError as error:
            raise TranscriptionFailed(f"transcriber unreachable: {error or type(error).__name__}") from error
        if response.status_code != 200:
            raise TranscriptionFailed(f"transcriber answered {response.status_code}")
        text = _text(response)
        if text is None:
            raise TranscriptionFailed("transcriber answered without a text")
        return text.strip()

    async def aclose(self) -> None:
        await self._client.aclose()


def _read(root: Path, relative_path: str) -> bytes:
    with os.fdopen(open_inside(root, relative_path), "rb") as file:
        return file.read()


def _text(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    text = data.get("text") if isinstance(data, dict) else None
    return text if isinstance(text, str) else None
