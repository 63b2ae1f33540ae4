"""The openai adapter against a local OpenAI-compatible server: history kept per chat in our database,
the registry's prompt and sampling sent along, failures mapped like the http adapter's."""

import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from adapters.platform.openai import CUT_OFF, ChatModelOptions, OpenAIPlatformClient, clean_title
from domain.model.agent import AgentEvent, AgentFailed, AgentRequest, Done, TextDelta
from domain.model.attachment import Attachment
from domain.model.context import ChatContext
from domain.model.ids import AgentId, UserId
from ports.platform import PlatformError
from ports.unit_of_work import UnitOfWorkFactory
from tests.servers.loopback import serve
from tests.servers.openai_compatible import FakeModelState, make_openai_app
from tests.unit.fakes.unit_of_work import FakeUnitOfWorkFactory

GPT = AgentId("gpt")


@dataclass
class Setup:
    url: str
    model: FakeModelState
    uow: FakeUnitOfWorkFactory

    def client(self, api_key: str | None = "sk-test", **options: Any) -> OpenAIPlatformClient:
        settings = ChatModelOptions(model="test-model", **options)
        return OpenAIPlatformClient(self.uow, settings, f"{self.url}/v1", api_key)


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    model = FakeModelState(api_key="sk-test")
    async with serve(make_openai_app(model)) as url:
        yield Setup(url=url, model=model, uow=FakeUnitOfWorkFactory())


async def ask(
    client: OpenAIPlatformClient, chat: ChatContext, text: str, attachments: tuple[Attachment, ...] = ()
) -> list[AgentEvent]:
    request = AgentRequest(
        agent_id=GPT, platform_chat_id=chat.platform_chat_id, text=text, sender=UserId("@a:x"), attachments=attachments
    )
    return [event async for event in client.stream(request)]


def text(events: list[AgentEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


async def test_history_is_kept_across_messages_and_sent_with_each(setup: Setup) -> None:
    client, chat = setup.client(), ChatContext.fresh(GPT)
    assert text(await ask(client, chat, "my name is Ada")) == "my name is Ada"
    assert text(await ask(client, chat, "and I like tea")) == "and I like tea"
    assert text(await ask(client, chat, "!!history")) == "1. my name is Ada\n2. and I like tea"
    assert setup.model.requests[1]["messages"] == [
        {"role": "user", "content": "my name is Ada"},
        {"role": "assistant", "content": "my name is Ada"},
        {"role": "user", "content": "and I like tea"},
    ]
    await client.aclose()


async def test_history_is_isolated_per_platform_chat_id(setup: Setup) -> None:
    client, first, second = setup.client(), ChatContext.fresh(GPT), ChatContext.fresh(GPT)
    await ask(client, first, "for the first chat")
    assert text(await ask(client, second, "!!history")) == "(no history)"
    assert text(await ask(client, first, "!!history")) == "1. for the first chat"
    await client.aclose()


async def test_the_system_prompt_model_and_temperature_are_sent(setup: Setup) -> None:
    client = setup.client(system_prompt="You are terse.", temperature=0.2)
    chat = ChatContext.fresh(GPT)
    assert text(await ask(client, chat, "!!system")) == "You are terse."
    await ask(client, chat, "again")
    sent = setup.model.requests[-1]
    assert (sent["model"], sent["temperature"], sent["stream"]) == ("test-model", 0.2, True)
    assert sent["messages"][0] == {"role": "system", "content": "You are terse."}
    # The system prompt comes from the registry on every request; it is not part of the transcript.
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    await client.aclose()


async def test_without_temperature_the_servers_default_applies(setup: Setup) -> None:
    client = setup.client()
    await ask(client, ChatContext.fresh(GPT), "hi")
    assert "temperature" not in setup.model.requests[-1]
    await client.aclose()


async def test_max_history_sends_only_the_latest_messages(setup: Setup) -> None:
    client, chat = setup.client(max_history=2), ChatContext.fresh(GPT)
    for message in ("one", "two", "three"):
        await ask(client, chat, message)
    assert text(await ask(client, chat, "!!history")) == "1. three"
    await client.aclose()


async def test_attachments_are_described_to_the_model(setup: Setup) -> None:
    client = setup.client()
    attachment = Attachment(
        kind="file", filename="r.pdf", mime_type="application/pdf", size=10, workspace_path="in/r.pdf"
    )
    await ask(client, ChatContext.fresh(GPT), "summarise", (attachment,))
    last = setup.model.requests[-1]["messages"][-1]["content"]
    assert last == "summarise\n\n[Attached file: r.pdf (application/pdf, 10 bytes) at in/r.pdf]"
    await client.aclose()


async def test_failed_or_cut_off_answers_leave_no_turn_behind(setup: Setup) -> None:
    client, chat = setup.client(), ChatContext.fresh(GPT)
    assert await ask(client, chat, "!!fail") == [AgentFailed(message="the test model was asked to fail")]
    events = await ask(client, chat, "!!cut")
    assert events[-1] == AgentFailed(message=CUT_OFF)
    with pytest.raises(PlatformError, match="model server answered 500: the test model broke"):
        await ask(client, chat, "!!boom")
    events = await ask(client, chat, "!!stream-error")
    assert events[-1] == AgentFailed(message="the model overloaded mid-answer")
    assert json.loads(await client.export_context(chat)) == {"version": 1, "messages": []}
    await client.aclose()


async def test_a_wrong_key_is_a_final_refusal(setup: Setup) -> None:
    client = setup.client(api_key="sk-wrong")
    assert await ask(client, ChatContext.fresh(GPT), "hi") == [AgentFailed(message="Incorrect API key provided")]
    assert await client.health() is False
    await client.aclose()


async def test_unreachable_and_timed_out_servers_raise_platform_error(setup: Setup) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = OpenAIPlatformClient(setup.uow, ChatModelOptions(model="m"), f"http://127.0.0.1:{port}/v1", None)
    with pytest.raises(PlatformError, match="model server unreachable"):
        await ask(down, ChatContext.fresh(GPT), "hi")
    assert await down.health() is False
    assert await down.suggest_title(ChatContext.fresh(GPT), "q", "a") is None
    slow = setup.client(read_timeout=0.3)
    with pytest.raises(PlatformError, match="timed out"):
        await ask(slow, ChatContext.fresh(GPT), "!!sleep 2 late")
    await down.aclose()
    await slow.aclose()


async def test_title_is_at_most_six_clean_words(setup: Setup) -> None:
    client = setup.client()
    title = await client.suggest_title(ChatContext.fresh(GPT), "ignored", "ignored")
    # The server answers with eight quoted words of the prompt: "Question: ignored Answer: ignored."
    assert title == "Question: ignored Answer: ignored"
    sent = setup.model.requests[-1]
    assert (sent["stream"], sent["max_tokens"]) == (False, 24)
    assert await client.health() is True
    await client.aclose()


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ('"Planning a Trip to Lisbon in May 2026."', "Planning a Trip to Lisbon in"),
        ("\n  Sourdough basics!\nextra line", "Sourdough basics"),
        ("“Tea”", "Tea"),
        ('""', None),
    ],
)
def test_clean_title(raw: str, title: str | None) -> None:
    assert clean_title(raw) == title


async def test_context_round_trips_and_bad_payloads_are_refused(setup: Setup) -> None:
    client, source, copy = setup.client(), ChatContext.fresh(GPT), ChatContext.fresh(GPT)
    await ask(client, source, "remember me")
    payload = await client.export_context(source)
    assert json.loads(payload)["messages"][0] == {"role": "user", "content": "remember me"}
    await client.import_context(copy, payload)
    assert text(await ask(client, copy, "!!history")) == "1. remember me"
    for bad in ("nope", "[]", '{"version": 1, "messages": [{"role": "system", "content": "x"}]}'):
        with pytest.raises(PlatformError, match="saved context"):
            await client.import_context(copy, bad)
    await client.aclose()


async def test_disconnect_forgets_only_that_chat(setup: Setup) -> None:
    client, gone, kept = setup.client(), ChatContext.fresh(GPT), ChatContext.fresh(GPT)
    await ask(client, gone, "bye")
    await ask(client, kept, "stay")
    await client.disconnect_chat(gone)
    assert json.loads(await client.export_context(gone))["messages"] == []
    assert len(json.loads(await client.export_context(kept))["messages"]) == 2
    await client.aclose()


async def test_history_lives_in_the_database_and_survives_a_restart(setup: Setup, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'surfaces.db'}"
    await upgrade_database(url)
    engine = make_engine(url)
    uow: UnitOfWorkFactory = SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))
    chat = ChatContext.fresh(GPT)
    before = OpenAIPlatformClient(uow, ChatModelOptions(model="m"), f"{setup.url}/v1", "sk-test")
    assert (await ask(before, chat, "persisted"))[-1] == Done()
    await before.aclose()
    after = OpenAIPlatformClient(uow, ChatModelOptions(model="m"), f"{setup.url}/v1", "sk-test")
    assert text(await ask(after, chat, "!!history")) == "1. persisted"
    await after.aclose()
    await engine.dispose()
