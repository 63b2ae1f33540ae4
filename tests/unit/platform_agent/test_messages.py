"""The reference agent answers messages as the contract says: streamed deltas, files, one terminal event."""

import asyncio
import hashlib
import time
from pathlib import Path

import httpx

from tests.servers.reference_agent import reference_agent
from tests.unit.platform_agent.wire import message, post, questions, text_of


async def test_answer_is_the_message_in_several_deltas_then_done(agent: httpx.AsyncClient) -> None:
    text = "one two three four five six seven\neight  nine"
    events = await post(agent, "pc-1", message(text))
    assert [e.event for e in events][-1] == "done"
    assert sum(e.event == "delta" for e in events) > 1
    assert text_of(events) == text
    assert events[-1].data["usage"] == {"input_tokens": 9, "output_tokens": 9}


async def test_deltas_are_paced_so_streaming_is_visible(workspace: Path) -> None:
    async with reference_agent(workspace, chunk_delay=0.05) as url, httpx.AsyncClient(base_url=url) as client:
        started = time.perf_counter()
        events = await post(client, "pc-1", message(" ".join(["word"] * 12)))
        assert time.perf_counter() - started >= 0.15
    assert sum(e.event == "delta" for e in events) == 4


async def test_attachments_are_read_from_the_workspace_and_described(agent: httpx.AsyncClient, workspace: Path) -> None:
    data = b"quarterly numbers\n" * 100
    (workspace / "surfaces" / "in").mkdir(parents=True)
    (workspace / "surfaces" / "in" / "report.txt").write_bytes(data)
    attachment = {
        "workspace_path": "surfaces/in/report.txt",
        "filename": "report.txt",
        "mime_type": "text/plain",
        "size": len(data),
        "kind": "file",
    }
    events = await post(agent, "pc-1", message("see attached", attachments=[attachment]))
    expected = f"Received report.txt: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}"
    assert text_of(events) == f"see attached\n\n{expected}"


async def test_write_directive_writes_into_the_chats_folder_and_emits_the_file(
    agent: httpx.AsyncClient, workspace: Path
) -> None:
    events = await post(agent, "pc-7", message("write ../../notes.md: # Title\nbody"))
    path = "surfaces/agent/pc-7/notes.md"
    assert [e.data for e in events if e.event == "file"] == [{"workspace_path": path}]
    assert (workspace / path).read_text(encoding="utf-8") == "# Title\nbody"
    assert text_of(events) == f"Wrote {path} (12 bytes)."
    assert events[-1].event == "done"


async def test_fail_directive_ends_with_one_final_error(agent: httpx.AsyncClient) -> None:
    events = await post(agent, "pc-1", message("!!fail"))
    assert [(e.event, e.data) for e in events] == [
        ("error", {"message": "reference agent was asked to fail", "retryable": False})
    ]
    assert await questions(agent, "pc-1") == []


async def test_history_directive_numbers_earlier_messages_and_is_not_recorded(agent: httpx.AsyncClient) -> None:
    for text in ("first", "two\nlines"):
        await post(agent, "pc-1", message(text))
    assert text_of(await post(agent, "pc-1", message("!!history"))) == "1. first\n2. two\\nlines"
    assert text_of(await post(agent, "pc-2", message("!!history"))) == "(no history)"
    assert await questions(agent, "pc-1") == ["first", "two\nlines"]


async def test_a_retried_request_id_is_replayed_not_answered_twice(agent: httpx.AsyncClient) -> None:
    first = await post(agent, "pc-1", message("write a.txt: v1", request_id="$event1"))
    again = await post(agent, "pc-1", message("write a.txt: v1", request_id="$event1"))
    assert [(e.event, e.data) for e in again if e.event != "done"] == [
        (e.event, e.data) for e in first if e.event != "done"
    ]
    assert await questions(agent, "pc-1") == ["write a.txt: v1"]


async def test_concurrent_duplicates_wait_for_the_original(workspace: Path) -> None:
    async with reference_agent(workspace, chunk_delay=0.02) as url, httpx.AsyncClient(base_url=url) as client:
        body = message("a b c d e f g h i", request_id="$same")
        answers = await asyncio.gather(*(post(client, "pc-1", body) for _ in range(3)))
        assert {text_of(events) for events in answers} == {"a b c d e f g h i"}
        assert await questions(client, "pc-1") == ["a b c d e f g h i"]


async def test_chats_are_created_on_first_use_and_kept_apart(agent: httpx.AsyncClient) -> None:
    await post(agent, "pc-a", message("for a"))
    await post(agent, "pc-b", message("for b"))
    assert await questions(agent, "pc-a") == ["for a"]
    assert await questions(agent, "pc-b") == ["for b"]
