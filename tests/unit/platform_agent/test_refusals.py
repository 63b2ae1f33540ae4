"""What the reference agent refuses, with the statuses and error bodies of the contract."""

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.unit.platform_agent.wire import message


def _attachment(path: str) -> dict[str, Any]:
    return {"workspace_path": path, "filename": "x", "mime_type": "text/plain", "size": 1, "kind": "file"}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/passwd", "not a relative workspace path"),
        ("surfaces/../../etc/passwd", "must not contain '..'"),
        ("surfaces/missing.txt", "no such file in the workspace"),
    ],
)
async def test_unusable_attachment_paths_are_refused_with_422(agent: httpx.AsyncClient, path: str, reason: str) -> None:
    response = await agent.post("/v1/chats/pc-1/messages", json=message("x", attachments=[_attachment(path)]))
    assert response.status_code == 422
    assert reason in response.json()["error"]["message"]
    assert response.json()["error"]["retryable"] is False


async def test_a_symlink_leaving_the_workspace_is_refused(
    agent: httpx.AsyncClient, workspace: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", workspace / "link.txt")
    response = await agent.post("/v1/chats/pc-1/messages", json=message("x", attachments=[_attachment("link.txt")]))
    assert response.status_code == 422
    assert "leaves the workspace" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "Invalid JSON"),
        (b'{"text": "hi", "sender": "@a:b"}', "agent_id: Field required"),
        (b'{"agent_id": "a", "text": 3, "sender": "@a:b"}', "text: Input should be a valid string"),
        (b'{"agent_id": "a", "text": "t", "sender": "s", "attachments": [{"workspace_path": "p"}]}', "attachments.0"),
    ],
)
async def test_malformed_bodies_are_refused_with_400_naming_the_field(
    agent: httpx.AsyncClient, body: bytes, field: str
) -> None:
    response = await agent.post("/v1/chats/pc-1/messages", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert field in response.json()["error"]["message"]


async def test_unknown_routes_answer_404_in_the_error_shape(agent: httpx.AsyncClient) -> None:
    response = await agent.get("/v1/nothing")
    assert response.status_code == 404
    assert response.json() == {"error": {"message": "Not Found", "retryable": False}}


async def test_unknown_fields_are_ignored(agent: httpx.AsyncClient) -> None:
    response = await agent.post("/v1/chats/pc-1/messages", json={**message("hi"), "priority": "high"})
    assert response.status_code == 200
