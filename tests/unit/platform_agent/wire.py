"""Talking to the reference agent the way the contract describes, without the bot's adapter in between."""

import json
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import aconnect_sse


@dataclass(frozen=True)
class Sent:
    event: str
    data: dict[str, Any]


def message(
    text: str, request_id: str | None = None, attachments: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"agent_id": "reference", "text": text, "sender": "@alice:example.org"}
    if request_id is not None:
        body["request_id"] = request_id
    if attachments is not None:
        body["attachments"] = attachments
    return body


async def post(client: httpx.AsyncClient, chat: str, body: dict[str, Any]) -> list[Sent]:
    """The answer's events, in order; fails on anything but a 200 event stream."""
    async with aconnect_sse(client, "POST", f"/v1/chats/{chat}/messages", json=body) as source:
        assert source.response.status_code == 200, await source.response.aread()
        return [Sent(sse.event, json.loads(sse.data)) async for sse in source.aiter_sse()]


def text_of(events: list[Sent]) -> str:
    return "".join(e.data["text"] for e in events if e.event == "delta")


async def questions(client: httpx.AsyncClient, chat: str) -> list[str]:
    response = await client.get(f"/v1/chats/{chat}/context")
    payload = json.loads(response.json()["payload"])
    return [m["content"] for m in payload["messages"] if m["role"] == "user"]
