import json
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.platform.echo import EchoPlatformClient
from domain.model.agent import AgentEvent, AgentFailed, AgentRequest, Done, FileEmitted, TextDelta
from domain.model.attachment import Attachment
from domain.model.context import ChatContext
from domain.model.ids import AgentId, PlatformChatId, UserId
from ports.platform import ContextTransferUnsupported, PlatformError

CHAT_A = PlatformChatId("chat-a")
CHAT_B = PlatformChatId("chat-b")


def _request(text: str, chat: PlatformChatId = CHAT_A) -> AgentRequest:
    return AgentRequest(
        agent_id=AgentId("echo"),
        platform_chat_id=chat,
        text=text,
        sender=UserId("@u:hs"),
    )


def _chat(chat: PlatformChatId) -> ChatContext:
    return ChatContext(agent_id=AgentId("echo"), platform_chat_id=chat)


async def _collect(client: EchoPlatformClient, request: AgentRequest) -> list[AgentEvent]:
    return [event async for event in client.stream(request)]


def _text(events: list[AgentEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_answer_is_the_message_exactly_then_done() -> None:
    text = "  Hello,  world!\nThis is\ta longer   message with several words.  "
    events = await _collect(EchoPlatformClient(), _request(text))
    assert _text(events) == text
    assert events[-1] == Done()
    assert all(isinstance(e, TextDelta) for e in events[:-1])


async def test_answer_streams_in_chunks_of_a_few_words() -> None:
    events = await _collect(EchoPlatformClient(), _request("one two three four five six seven"))
    chunks = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(chunks) > 1
    assert all(1 <= len(chunk.split()) <= 3 for chunk in chunks)


async def test_empty_message_answers_done_only() -> None:
    assert await _collect(EchoPlatformClient(), _request("")) == [Done()]


async def test_fail_directive_answers_agent_failed() -> None:
    events = await _collect(EchoPlatformClient(), _request("!!fail"))
    assert events == [AgentFailed(message="echo agent was asked to fail")]


async def test_fail_directive_must_be_the_whole_message() -> None:
    events = await _collect(EchoPlatformClient(), _request("!!fail please"))
    assert _text(events) == "!!fail please"


async def test_sleep_directive_echoes_the_rest() -> None:
    events = await _collect(EchoPlatformClient(), _request("!!sleep 0.01 slow answer"))
    assert _text(events) == "slow answer"
    assert events[-1] == Done()


async def test_malformed_sleep_directive_is_echoed() -> None:
    events = await _collect(EchoPlatformClient(), _request("!!sleep soon"))
    assert _text(events) == "!!sleep soon"


async def test_chunk_delay_keeps_the_answer() -> None:
    client = EchoPlatformClient(delay_per_chunk=0.001)
    assert _text(await _collect(client, _request("a b c d"))) == "a b c d"


async def test_history_directive_numbers_earlier_messages_one_per_line() -> None:
    client = EchoPlatformClient()
    for text in ("first", "two\nlines", "!!fail"):
        await _collect(client, _request(text))
    events = await _collect(client, _request("!!history"))
    assert _text(events) == "1. first\n2. two\\nlines\n3. !!fail"
    assert events[-1] == Done()


async def test_history_directive_is_not_recorded() -> None:
    client = EchoPlatformClient()
    assert _text(await _collect(client, _request("!!history"))) == "(no history)"
    await _collect(client, _request("hi"))
    await _collect(client, _request("!!history"))
    assert client.history(CHAT_A) == ("hi",)


async def test_history_directive_shows_imported_context() -> None:
    client = EchoPlatformClient()
    await client.import_context(_chat(CHAT_B), '["from a snapshot"]')
    assert _text(await _collect(client, _request("!!history", CHAT_B))) == "1. from a snapshot"


async def test_export_is_a_json_list_of_received_texts() -> None:
    client = EchoPlatformClient()
    await _collect(client, _request("héllo"))
    await _collect(client, _request("!!sleep 0 later"))
    assert json.loads(await client.export_context(_chat(CHAT_A))) == ["héllo", "!!sleep 0 later"]


@pytest.mark.parametrize("payload", ["not json", '{"a": 1}', '["ok", 2]', "null"])
async def test_import_rejects_a_payload_that_is_not_a_list_of_texts(payload: str) -> None:
    with pytest.raises(PlatformError, match="echo context"):
        await EchoPlatformClient().import_context(_chat(CHAT_A), payload)


async def test_without_context_transfer_save_and_load_name_the_agent() -> None:
    client = EchoPlatformClient(context_transfer=False)
    chat = ChatContext(agent_id=AgentId("echo-nosave"), platform_chat_id=CHAT_A)
    message = "agent echo-nosave cannot save or load context"
    with pytest.raises(ContextTransferUnsupported, match=message):
        await client.export_context(chat)
    with pytest.raises(ContextTransferUnsupported, match=message):
        await client.import_context(chat, "[]")


async def test_offers_no_title() -> None:
    assert await EchoPlatformClient().suggest_title(_chat(CHAT_A), "question", "answer") is None


async def test_is_healthy() -> None:
    assert await EchoPlatformClient().health() is True


# -- files -------------------------------------------------------------------------------------------


def _files(events: list[AgentEvent]) -> list[str]:
    return [e.workspace_path for e in events if isinstance(e, FileEmitted)]


async def test_file_directive_emits_each_named_path_as_written_after_the_text() -> None:
    text = "here:\n!!file /etc/passwd\n!!file ../../x\n!!file  out/a b.txt  "
    events = await _collect(EchoPlatformClient(), _request(text))
    assert _files(events) == ["/etc/passwd", "../../x", "out/a b.txt"]
    assert _text(events) == text and events[-1] == Done()
    assert all(isinstance(e, TextDelta) for e in events[:-4])


async def test_write_directive_writes_the_text_under_the_chat_and_emits_it(tmp_path: Path) -> None:
    client = EchoPlatformClient(workspace_dir=tmp_path)
    events = await _collect(client, _request("!!write ../notes.txt hello\nworld", CHAT_B))
    assert _files(events) == ["surfaces/echo/chat-b/notes.txt"]
    assert (tmp_path / "surfaces/echo/chat-b/notes.txt").read_text() == "hello\nworld"


async def test_write_directive_without_a_workspace_fails_clearly() -> None:
    events = await _collect(EchoPlatformClient(), _request("!!write a.txt x"))
    assert events == [AgentFailed(message="echo agent has no workspace to write to")]


async def test_write_directive_into_an_unwritable_workspace_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "surfaces").write_text("not a directory")
    events = await _collect(EchoPlatformClient(workspace_dir=tmp_path), _request("!!write a.txt x"))
    assert len(events) == 1 and isinstance(events[0], AgentFailed) and "could not write" in events[0].message


async def test_attachments_are_listed_after_the_echo() -> None:
    attachments = tuple(
        Attachment(kind="file", filename=name, mime_type="text/plain", size=1, workspace_path=f"in/{name}")
        for name in ("a.txt", "b.txt")
    )
    request = replace(_request("look"), attachments=attachments)
    events = await _collect(EchoPlatformClient(), request)
    assert _text(events) == "look\nreceived: in/a.txt\nreceived: in/b.txt"
