"""The OpenAI-compatible transcriber against the local test server's `/v1/audio/transcriptions`."""

from pathlib import Path

import pytest

from adapters.platform.transcriber import OpenAITranscriber
from domain.model.attachment import Attachment
from ports.transcriber import TranscriptionFailed
from tests.servers.loopback import serve
from tests.servers.openai_compatible import FakeModelState, make_openai_app

NOTE = Attachment(kind="audio", filename="note.ogg", mime_type="audio/ogg", size=5, workspace_path="in/note.ogg")


async def test_the_audio_is_sent_with_the_model_and_the_text_comes_back(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "note.ogg").write_bytes(b"hello there ")
    state = FakeModelState(api_key="sk-t")
    async with serve(make_openai_app(state)) as url:
        transcriber = OpenAITranscriber(f"{url}/v1", "whisper-test", tmp_path, "sk-t")
        assert await transcriber.transcribe(NOTE) == "hello there"
        await transcriber.aclose()
    assert state.transcribed == [("whisper-test", "note.ogg", b"hello there ")]


async def test_failures_and_files_outside_the_workspace_are_transcription_failures(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "note.ogg").write_bytes(b"x")
    state = FakeModelState(api_key="sk-t", transcription_failures=1)
    async with serve(make_openai_app(state)) as url:
        transcriber = OpenAITranscriber(f"{url}/v1", "m", tmp_path, "sk-t")
        with pytest.raises(TranscriptionFailed, match="503"):
            await transcriber.transcribe(NOTE)
        with pytest.raises(TranscriptionFailed, match="not in the workspace"):
            await transcriber.transcribe(Attachment(**{**NOTE.__dict__, "workspace_path": "../etc/passwd"}))
        await transcriber.aclose()
    unreachable = OpenAITranscriber("http://127.0.0.1:9/v1", "m", tmp_path)
    with pytest.raises(TranscriptionFailed, match="unreachable"):
        await unreachable.transcribe(NOTE)
    await unreachable.aclose()
