"""Issue 18, acceptance 6: a voice note is transcribed by a local transcription server (the OpenAI-compatible test
server's `/v1/audio/transcriptions`, which "transcribes" a file as its bytes read as UTF-8); the agent receives the
transcript as the person's text and the person sees it quoted above the answer. Without a transcriber the audio is a
file whose path goes to the agent, as before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.agent_servers import OPENAI_MODEL, ServerProcess, openai_server
from tests.e2e.conftest import BotStarter, BotUnderTest, NewUser
from tests.e2e.helpers import WAIT, ask, body, onboard, reply_from
from tests.e2e.test_files import RECEIVED, expected_path, send_file

KEY_ENV = "E2E_OPENAI_API_KEY"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    key = f"sk-e2e-{uuid.uuid4().hex}"
    process = openai_server(key, tmp_path)
    process.start()
    try:
        yield process, key
    finally:
        process.stop()


@pytest.fixture
def voice_bot(start_bot: BotStarter, server: tuple[ServerProcess, str], tmp_path: Path) -> BotUnderTest:
    process, key = server
    registry = tmp_path / "agents.yaml"
    registry.write_text(
        f"""\
default: gpt
agents:
  - id: gpt
    adapter: openai
    settings:
      base_url: {process.base_url}/v1
      model: {OPENAI_MODEL}
      api_key_env: {KEY_ENV}
""",
        encoding="utf-8",
    )
    return start_bot(
        SURFACES_AGENTS_FILE=str(registry),
        SURFACES_TRANSCRIBER_URL=f"{process.base_url}/v1",
        SURFACES_TRANSCRIBER_API_KEY=key,
        **{KEY_ENV: key},
    )


async def test_a_voice_note_is_transcribed_and_the_agent_answers_the_transcript(
    voice_bot: BotUnderTest, new_user: NewUser
) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, voice_bot)
    spoken = "what is the weather in Lisbon"
    sent = await send_file(user, chat, spoken.encode(), "voice.ogg", mimetype="audio/ogg", msgtype="m.audio")

    answer = await user.wait_for(reply_from(voice_bot, chat, sent), WAIT)

    # The openai test agent echoes the text it was given: the transcript, quoted above it.
    assert body(answer) == f"> {spoken}\n\n{spoken}"
    assert body(await ask(user, voice_bot, chat, "!!history")) == f"1. {spoken}"


async def test_without_a_transcriber_the_audio_goes_to_the_agent_as_a_file(
    bot: BotUnderTest, new_user: NewUser
) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, bot)
    sent = await send_file(user, chat, b"not really audio", "voice.ogg", mimetype="audio/ogg", msgtype="m.audio")
    staged = await user.wait_for(reply_from(bot, chat, sent), WAIT)
    assert "voice.ogg" in body(staged)

    answer = await ask(user, bot, chat, "here it is")
    assert RECEIVED.findall(body(answer)) == [await expected_path(user, chat, sent, "voice.ogg")]
