"""The openai adapter's part in conversation controls: images as parts for a model that sees, a turn replaced in
place (regenerate, edit), and the partial text kept when the answer is stopped."""

import asyncio
import base64
import hashlib
from pathlib import Path

from adapters.platform.openai import ChatModelOptions, OpenAIPlatformClient
from domain.model.agent import AgentRequest, TextDelta
from domain.model.attachment import Attachment
from domain.model.context import ChatContext
from domain.model.ids import PlatformChatId, UserId
from tests.servers.loopback import serve
from tests.servers.openai_compatible import FakeModelState, make_openai_app
from tests.unit.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.platform.test_openai import GPT, ask, text

CHAT = ChatContext(agent_id=GPT, platform_chat_id=PlatformChatId("pc-1"))
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 10


def client(
    url: str, uow: FakeUnitOfWorkFactory, root: Path | None = None, limit: int | None = None
) -> OpenAIPlatformClient:
    options = ChatModelOptions(model="test-model", vision_max_bytes=limit)
    return OpenAIPlatformClient(uow, options, f"{url}/v1", None, root)


def image(name: str, size: int) -> Attachment:
    return Attachment(kind="image", filename=name, mime_type="image/png", size=size, workspace_path=f"in/{name}")


async def test_a_model_that_sees_gets_images_within_the_limit_as_parts_and_the_transcript_keeps_text(
    tmp_path: Path,
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.png").write_bytes(PNG)
    (tmp_path / "in" / "big.png").write_bytes(PNG * 10)
    model, uow = FakeModelState(), FakeUnitOfWorkFactory()
    async with serve(make_openai_app(model)) as url:
        seer = client(url, uow, tmp_path, limit=len(PNG))
        events = await ask(seer, CHAT, "look", (image("a.png", len(PNG)), image("big.png", len(PNG) * 10)))
        await seer.aclose()

    content = model.requests[-1]["messages"][-1]["content"]
    assert content[0]["type"] == "text" and content[0]["text"].startswith("look")
    (part,) = content[1:]  # the big one goes as its path line only
    assert base64.b64decode(part["image_url"]["url"].split(",", 1)[1]) == PNG
    assert f"sha256 {hashlib.sha256(PNG).hexdigest()}" in text(events)
    async with uow() as unit:
        history = await unit.transcripts.history(CHAT.platform_chat_id)
    assert isinstance(history[0].content, str) and "in/a.png" in history[0].content


async def test_a_model_that_does_not_see_gets_only_paths(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.png").write_bytes(PNG)
    model = FakeModelState()
    async with serve(make_openai_app(model)) as url:
        blind = client(url, FakeUnitOfWorkFactory(), tmp_path, limit=None)
        await ask(blind, CHAT, "look", (image("a.png", len(PNG)),))
        await blind.aclose()
    assert isinstance(model.requests[-1]["messages"][-1]["content"], str)


async def test_a_replacing_request_takes_the_place_of_the_last_turn() -> None:
    model, uow = FakeModelState(), FakeUnitOfWorkFactory()
    async with serve(make_openai_app(model)) as url:
        gpt = client(url, uow)
        await ask(gpt, CHAT, "one")
        await ask(gpt, CHAT, "two")
        request = AgentRequest(
            agent_id=GPT,
            platform_chat_id=CHAT.platform_chat_id,
            text="deux",
            sender=UserId("@a:x"),
            replaces_last_turn=True,
        )
        _ = [event async for event in gpt.stream(request)]
        await gpt.aclose()
    sent = [m["content"] for m in model.requests[-1]["messages"]]
    assert sent == ["one", "one", "deux"]
    async with uow() as unit:
        kept = [entry.content for entry in await unit.transcripts.history(CHAT.platform_chat_id)]
    assert kept == ["one", "one", "deux", "deux"]


async def test_a_stopped_answer_keeps_what_was_streamed_as_the_turns_answer() -> None:
    model, uow = FakeModelState(), FakeUnitOfWorkFactory()
    async with serve(make_openai_app(model)) as url:
        gpt = client(url, uow)
        request = AgentRequest(
            agent_id=GPT, platform_chat_id=CHAT.platform_chat_id, text="!!slow 5 a b c d", sender=UserId("@a:x")
        )
        stream = gpt.stream(request)
        first = await anext(stream)
        assert isinstance(first, TextDelta)
        pending = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
        await gpt.aclose()
    async with uow() as unit:
        kept = await unit.transcripts.history(CHAT.platform_chat_id)
    assert [(e.role, e.content) for e in kept] == [("user", "!!slow 5 a b c d"), ("assistant", first.text)]
