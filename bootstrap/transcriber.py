"""The transcriber named by the settings, or None: its adapter (and httpx) is loaded only when one is configured."""

from pathlib import Path

from ports.transcriber import Transcriber


def make_transcriber(url: str | None, model: str, api_key: str | None, workspace_dir: Path) -> Transcriber | None:
    if not url:
        return None
    from adapters.platform.transcriber import OpenAITranscriber

    return OpenAITranscriber(url, model, workspace_dir, api_key)
