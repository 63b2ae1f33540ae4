"""The http adapter end to end against the real reference agent: attachments, files, retries, titles."""

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from adapters.platform.http import HttpPlatformClient
from domain.model.agent import AgentEvent, AgentRequest, Done, FileEmitted, TextDelta
from domain.model.attachment import Attachment
from domain.model.context import ChatContext
from domain.model.ids import AgentId, UserId
from tests.servers.reference_agent import reference_agent

AGENT = AgentId("reference")


@dataclass(frozen=True, kw_only=True)
class _RequestWithId(AgentRequest):
    """AgentRequest as it will be once it carries the Matrix event id (docs/platform-contract.md, Idempotency)."""

    request_id: str


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[HttpPlatformClient]:
    async with reference_agent(tmp_path) as url:
        adapter = HttpPlatformClient(url, "reference")
        yield adapter
        await adapter.aclose()


async def _collect(client: HttpPlatformClient, request: AgentRequest) -> list[AgentEvent]:
    return [event async for event in client.stream(request)]


def _request(chat: ChatContext, text: str, attachments: tuple[Attachment, ...] = ()) -> AgentRequest:
    return AgentRequest(
        agent_id=AGENT,
        platform_chat_id=chat.platform_chat_id,
        text=text,
        sender=UserId("@a:x"),
        attachments=attachments,
    )


async def test_attachments_reach_the_agent_through_the_workspace(client: HttpPlatformClient, tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    data = b"\x89PNG fake"
    (tmp_path / "inbox" / "photo.png").write_bytes(data)
    attachment = Attachment(
        kind="image", filename="photo.png", mime_type="image/png", size=9, workspace_path="inbox/photo.png"
    )
    events = await _collect(client, _request(ChatContext.fresh(AGENT), "look", (attachment,)))
    text = "".join(event.text for event in events if isinstance(event, TextDelta))
    assert text == f"look\n\nReceived photo.png: 9 bytes, sha256 {hashlib.sha256(data).hexdigest()}"
    assert events[-1] == Done()


async def test_files_the_agent_writes_are_emitted_by_relative_path(client: HttpPlatformClient, tmp_path: Path) -> None:
    chat = ChatContext.fresh(AGENT)
    events = await _collect(client, _request(chat, "write out.txt: result"))
    path = f"surfaces/agent/{chat.platform_chat_id}/out.txt"
    assert FileEmitted(workspace_path=path) in events
    assert (tmp_path / path).read_text() == "result"


async def test_a_request_id_lets_the_agent_replay_a_retry_instead_of_answering_twice(
    client: HttpPlatformClient,
) -> None:
    chat = ChatContext.fresh(AGENT)
    base = _request(chat, "only once")
    retry = _RequestWithId(**{**base.__dict__, "request_id": "$event:example.org"})
    first, second = await _collect(client, retry), await _collect(client, retry)
    assert first == second
    exported = json.loads(await client.export_context(chat))
    assert [m["content"] for m in exported["messages"] if m["role"] == "user"] == ["only once"]


async def test_title_and_health_come_from_the_agent(client: HttpPlatformClient) -> None:
    title = await client.suggest_title(ChatContext.fresh(AGENT), "Plan a trip to Lisbon in May please", "Sure")
    assert title == "Plan a trip to Lisbon in"
    assert await client.health() is True


async def test_the_message_body_follows_the_contract() -> None:
    seen: list[httpx.Request] = []

    def agent(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = b'event: done\ndata: {"usage": {"input_tokens": 1, "output_tokens": 0}}\n\n'
        return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=body)

    client = HttpPlatformClient("http://agent.test/base/", "lambda-coder", transport=httpx.MockTransport(agent))
    chat = ChatContext(agent_id=AGENT, platform_chat_id=ChatContext.fresh(AGENT).platform_chat_id)
    attachment = Attachment(kind="file", filename="a b.pdf", mime_type="application/pdf", size=3, workspace_path="x/a")
    assert await _collect(client, _request(chat, "hi", (attachment,))) == [Done()]
    await client.aclose()
    request = seen[0]
    assert str(request.url) == f"http://agent.test/base/v1/chats/{chat.platform_chat_id}/messages"
    assert request.headers["Accept"] == "text/event-stream"
    assert json.loads(request.content) == {
        "agent_id": "lambda-coder",
        "text": "hi",
        "sender": "@a:x",
        "attachments": [
            {"workspace_path": "x/a", "filename": "a b.pdf", "mime_type": "application/pdf", "size": 3, "kind": "file"}
        ],
    }
