"""The contract every PlatformClient adapter keeps, run over each of them.

`PlatformContract` holds the tests; a subclass supplies a `subject` fixture building a fresh
`ContractSubject`. A new adapter joins by one param of `subject` below, or by its own subclass
(see test_new_adapter.py), with no change to domain/ or ports/.
"""

import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.platform.echo import FAIL_DIRECTIVE, EchoPlatformClient
from adapters.platform.http import HttpPlatformClient
from adapters.platform.openai import ChatModelOptions, OpenAIPlatformClient
from adapters.platform.routed import RoutedPlatformClient
from domain.model.agent import AgentEvent, AgentFailed, AgentRequest, Done, TextDelta
from domain.model.context import ChatContext
from domain.model.ids import AgentId, UserId
from ports.platform import ContextTransferUnsupported, PlatformClient
from tests.servers.loopback import serve
from tests.servers.openai_compatible import make_openai_app
from tests.servers.reference_agent import reference_agent
from tests.unit.fakes.unit_of_work import FakeUnitOfWorkFactory


@dataclass(frozen=True, kw_only=True)
class ContractSubject:
    """An adapter under test, and how the suite can look inside the agent behind it."""

    client: PlatformClient
    agent_id: AgentId
    # The texts the agent remembers for this chat, oldest first.
    recall: Callable[[ChatContext], Awaitable[list[str]]]
    transfers_context: bool = True
    # A message the agent answers with AgentFailed, when the test double has one.
    failing_text: str | None = None

    def chat(self) -> ChatContext:
        return ChatContext.fresh(self.agent_id)


async def ask(client: PlatformClient, chat: ChatContext, text: str) -> list[AgentEvent]:
    request = AgentRequest(
        agent_id=chat.agent_id, platform_chat_id=chat.platform_chat_id, text=text, sender=UserId("@u:example.org")
    )
    return [event async for event in client.stream(request)]


def assert_one_terminal_event_last(events: list[AgentEvent]) -> None:
    terminal = [index for index, event in enumerate(events) if isinstance(event, Done | AgentFailed)]
    assert terminal == [len(events) - 1], events


class PlatformContract:
    """Not collected itself (no Test prefix): subclass it with a `subject` fixture."""

    async def test_answer_streams_text_then_exactly_one_done(self, subject: ContractSubject) -> None:
        events = await ask(subject.client, subject.chat(), "hello there agent")
        assert_one_terminal_event_last(events)
        assert isinstance(events[-1], Done)
        assert isinstance(events[0], TextDelta)
        assert "".join(e.text for e in events if isinstance(e, TextDelta))

    async def test_failure_ends_with_one_agent_failed(self, subject: ContractSubject) -> None:
        assert subject.failing_text is not None, "every adapter under contract must be able to fail on request"
        events = await ask(subject.client, subject.chat(), subject.failing_text)
        assert_one_terminal_event_last(events)
        assert isinstance(events[-1], AgentFailed)

    async def test_chats_never_see_each_others_history(self, subject: ContractSubject) -> None:
        first, second = subject.chat(), subject.chat()
        await ask(subject.client, first, "one")
        await ask(subject.client, second, "other")
        await ask(subject.client, first, "two")
        assert await subject.recall(first) == ["one", "two"]
        assert await subject.recall(second) == ["other"]

    async def test_disconnect_drops_only_that_chat(self, subject: ContractSubject) -> None:
        gone, kept = subject.chat(), subject.chat()
        await ask(subject.client, gone, "forget me")
        await ask(subject.client, kept, "keep me")
        await subject.client.disconnect_chat(gone)
        assert await subject.recall(gone) == []
        assert await subject.recall(kept) == ["keep me"]

    async def test_export_then_import_reproduces_history_in_a_new_chat(self, subject: ContractSubject) -> None:
        source, copy = subject.chat(), subject.chat()
        await ask(subject.client, source, "first")
        await ask(subject.client, source, "second")
        if not subject.transfers_context:
            with pytest.raises(ContextTransferUnsupported):
                await subject.client.export_context(source)
            with pytest.raises(ContextTransferUnsupported):
                await subject.client.import_context(copy, "[]")
            return
        await subject.client.import_context(copy, await subject.client.export_context(source))
        await ask(subject.client, copy, "third")
        assert await subject.recall(copy) == ["first", "second", "third"]
        assert await subject.recall(source) == ["first", "second"]

    async def test_title_is_text_or_none(self, subject: ContractSubject) -> None:
        title = await subject.client.suggest_title(subject.chat(), "What is 2+2?", "4")
        assert title is None or (isinstance(title, str) and title.strip())

    async def test_health_is_a_bool(self, subject: ContractSubject) -> None:
        assert isinstance(await subject.client.health(), bool)


@asynccontextmanager
async def _echo_subject(agent_id: AgentId, context_transfer: bool = True) -> AsyncIterator[ContractSubject]:
    yield _echo(agent_id, context_transfer)


@asynccontextmanager
async def _routed_subject() -> AsyncIterator[ContractSubject]:
    yield _routed()


def _echo(agent_id: AgentId, context_transfer: bool = True) -> ContractSubject:
    client = EchoPlatformClient(context_transfer=context_transfer)

    async def recall(chat: ChatContext) -> list[str]:
        return list(client.history(chat.platform_chat_id))

    return ContractSubject(
        client=client, agent_id=agent_id, recall=recall, transfers_context=context_transfer, failing_text=FAIL_DIRECTIVE
    )


def _routed() -> ContractSubject:
    # Two agents behind the router, so a call that reached the wrong one would show.
    target, bystander = _echo(AgentId("echo")), _echo(AgentId("echo-2"))
    client = RoutedPlatformClient({target.agent_id: target.client, bystander.agent_id: bystander.client})

    async def recall(chat: ChatContext) -> list[str]:
        assert await bystander.recall(chat) == []
        return await target.recall(chat)

    return ContractSubject(client=client, agent_id=target.agent_id, recall=recall, failing_text=FAIL_DIRECTIVE)


REFERENCE = AgentId("reference")


@asynccontextmanager
async def _http_subject() -> AsyncIterator[ContractSubject]:
    """The http adapter against the real reference agent, served on a free loopback port."""
    with tempfile.TemporaryDirectory() as workspace:
        async with reference_agent(Path(workspace)) as url:
            client = HttpPlatformClient(url, agent_id=REFERENCE)

            async def recall(chat: ChatContext) -> list[str]:
                # What the agent remembers is what it exports: its user turns.
                messages = json.loads(await client.export_context(chat))["messages"]
                return [message["content"] for message in messages if message["role"] == "user"]

            try:
                yield ContractSubject(client=client, agent_id=REFERENCE, recall=recall, failing_text="!!fail")
            finally:
                await client.aclose()


@asynccontextmanager
async def _openai_subject() -> AsyncIterator[ContractSubject]:
    """The openai adapter against a local OpenAI-compatible server; history in a fake database."""
    uow = FakeUnitOfWorkFactory()
    async with serve(make_openai_app()) as url:
        client = OpenAIPlatformClient(uow, ChatModelOptions(model="test-model"), f"{url}/v1", api_key=None)

        async def recall(chat: ChatContext) -> list[str]:
            async with uow() as transaction:
                entries = await transaction.transcripts.history(chat.platform_chat_id)
            return [entry.content for entry in entries if entry.role == "user"]

        try:
            yield ContractSubject(client=client, agent_id=AgentId("gpt"), recall=recall, failing_text="!!fail")
        finally:
            await client.aclose()


# One entry per adapter: an async context manager, so an adapter that needs a fake server can
# start it on entry and stop it on exit.
SUBJECTS: dict[str, Callable[[], AbstractAsyncContextManager[ContractSubject]]] = {
    "echo": lambda: _echo_subject(AgentId("echo")),
    "echo-nosave": lambda: _echo_subject(AgentId("echo-nosave"), context_transfer=False),
    "routed": _routed_subject,
    "http": _http_subject,
    "openai": _openai_subject,
}


class TestPlatformContract(PlatformContract):
    @pytest.fixture(params=sorted(SUBJECTS))
    async def subject(self, request: pytest.FixtureRequest) -> AsyncIterator[ContractSubject]:
        async with SUBJECTS[request.param]() as subject:
            yield subject
