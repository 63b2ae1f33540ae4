"""A brand-new adapter, defined only here, passes the platform contract: adding one needs no change
to domain/ or ports/, only a class that keeps the PlatformClient protocol."""

import json
from collections.abc import AsyncIterator

import pytest

from domain.model.agent import AgentEvent, AgentFailed, AgentRequest, Done, TextDelta
from domain.model.context import ChatContext
from domain.model.ids import AgentId, PlatformChatId
from ports.platform import PlatformClient, PlatformError
from tests.unit.platform.test_platform_contract import ContractSubject, PlatformContract, ask


class ReversePlatformClient:
    """Answers each message with its text reversed, one character per delta."""

    def __init__(self) -> None:
        self.sessions: dict[PlatformChatId, list[str]] = {}

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        self.sessions.setdefault(request.platform_chat_id, []).append(request.text)
        if not request.text:
            yield AgentFailed(message="nothing to reverse")
            return
        for character in reversed(request.text):
            yield TextDelta(text=character)
        yield Done()

    async def disconnect_chat(self, chat: ChatContext) -> None:
        self.sessions.pop(chat.platform_chat_id, None)

    async def export_context(self, chat: ChatContext) -> str:
        return json.dumps({"reversed": self.sessions.get(chat.platform_chat_id, [])})

    async def import_context(self, chat: ChatContext, payload: str) -> None:
        try:
            self.sessions[chat.platform_chat_id] = list(json.loads(payload)["reversed"])
        except (ValueError, KeyError, TypeError) as error:
            raise PlatformError(f"not a reverse-agent context: {error}") from error

    async def suggest_title(self, chat: ChatContext, question: str, answer: str) -> str | None:
        return question[::-1][:30] or None

    async def health(self) -> bool:
        return True


_CONFORMS_TO_PORT: type[PlatformClient] = ReversePlatformClient


class TestReverseAdapterKeepsThePlatformContract(PlatformContract):
    @pytest.fixture
    def subject(self) -> ContractSubject:
        client = ReversePlatformClient()

        async def recall(chat: ChatContext) -> list[str]:
            return client.sessions.get(chat.platform_chat_id, [])

        return ContractSubject(client=client, agent_id=AgentId("reverse"), recall=recall, failing_text="")


async def test_reverse_adapter_answers_reversed() -> None:
    events = await ask(ReversePlatformClient(), ChatContext.fresh(AgentId("reverse")), "abc")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "cba"
