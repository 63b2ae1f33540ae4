"""Issue 18, acceptance 5: images reach a `vision: true` agent as image parts with the same bytes; an image over the
limit gets a notice and goes as a path; other agents keep getting the workspace path.

The agents are the OpenAI-compatible test server, which answers a message given as parts with its text and a line
per image part: `[image <mime type>, <bytes> bytes, sha256 <hex>]`.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.agent_servers import OPENAI_MODEL, openai_server
from tests.e2e.conftest import BotStarter, BotUnderTest, NewUser
from tests.e2e.helpers import WAIT, ask, body, onboard, reply_from
from tests.e2e.test_files import png, send_file

KEY_ENV = "E2E_OPENAI_API_KEY"
LIMIT_MB = 0.05  # 51,200 bytes: small images pass, a noisy one does not


@pytest.fixture
def vision_bot(start_bot: BotStarter, tmp_path: Path) -> Iterator[BotUnderTest]:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    key = f"sk-e2e-{uuid.uuid4().hex}"
    server = openai_server(key, tmp_path)
    server.start()
    common = f"base_url: {server.base_url}/v1\n      model: {OPENAI_MODEL}\n      api_key_env: {KEY_ENV}"
    registry = tmp_path / "agents.yaml"
    registry.write_text(
        f"""\
default: seer
agents:
  - id: seer
    adapter: openai
    settings:
      {common}
      vision: true
      max_image_mb: {LIMIT_MB}
  - id: blind
    adapter: openai
    settings:
      {common}
""",
        encoding="utf-8",
    )
    try:
        yield start_bot(SURFACES_AGENTS_FILE=str(registry), SURFACES_WORKSPACE_DIR=str(workspace), **{KEY_ENV: key})
    finally:
        server.stop()


def _image_line(data: bytes) -> str:
    return f"[image image/png, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}]"


def _noise_png(size: int) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(buffer, "PNG")
    return buffer.getvalue()


async def test_a_png_reaches_a_vision_agent_as_an_image_part_with_the_same_bytes(
    vision_bot: BotUnderTest, new_user: NewUser
) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, vision_bot)
    data = png(8, 6)
    sent = await send_file(
        user, chat, data, "photo.png", caption="what is this?", mimetype="image/png", msgtype="m.image"
    )
    answer = await user.wait_for(reply_from(vision_bot, chat, sent), WAIT)
    assert body(answer).startswith("what is this?") and _image_line(data) in body(answer)


async def test_an_oversize_image_gets_a_notice_and_other_agents_get_the_path(
    vision_bot: BotUnderTest, new_user: NewUser
) -> None:
    user = await new_user()
    _, _, chat = await onboard(user, vision_bot)
    big = _noise_png(160)
    assert len(big) > LIMIT_MB * 1024 * 1024
    sent = await send_file(user, chat, big, "noise.png", caption="and this?", mimetype="image/png", msgtype="m.image")
    notice = await user.wait_for(
        lambda room, e: reply_from(vision_bot, chat, sent)(room, e) and e["content"]["msgtype"] == "m.notice", WAIT
    )
    assert "noise.png" in body(notice) and "only as a file" in body(notice)
    answer = await user.wait_for(
        lambda room, e: reply_from(vision_bot, chat, sent)(room, e) and e["content"]["msgtype"] == "m.text", WAIT
    )
    assert "[image " not in body(answer) and "[Attached image: noise.png" in body(answer)

    await ask(user, vision_bot, chat, "!agent blind")
    small = png(8, 6)
    sent = await send_file(user, chat, small, "small.png", caption="blind?", mimetype="image/png", msgtype="m.image")
    answer = await user.wait_for(reply_from(vision_bot, chat, sent), WAIT)
    assert "[image " not in body(answer) and "[Attached image: small.png" in body(answer)
