"""Health, disconnect, context export and import, and titles on the reference agent."""

import json

import httpx

from tests.unit.platform_agent.wire import message, post, questions, text_of


async def test_health_says_ok_and_the_mode(agent: httpx.AsyncClient) -> None:
    response = await agent.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "mode": "echo", "chats": 0}


async def test_disconnect_drops_only_that_chat_and_is_idempotent(agent: httpx.AsyncClient) -> None:
    await post(agent, "pc-gone", message("forget me"))
    await post(agent, "pc-kept", message("keep me"))
    for _ in range(2):
        assert (await agent.delete("/v1/chats/pc-gone")).status_code == 204
    assert await questions(agent, "pc-gone") == []
    assert await questions(agent, "pc-kept") == ["keep me"]


async def test_export_of_an_unknown_chat_is_an_empty_context(agent: httpx.AsyncClient) -> None:
    response = await agent.get("/v1/chats/pc-never/context")
    assert json.loads(response.json()["payload"]) == {"version": 1, "messages": []}


async def test_import_seeds_a_new_chat_with_the_exported_conversation(agent: httpx.AsyncClient) -> None:
    await post(agent, "pc-src", message("first"))
    exported = (await agent.get("/v1/chats/pc-src/context")).json()
    assert (await agent.put("/v1/chats/pc-copy/context", json=exported)).status_code == 204
    assert text_of(await post(agent, "pc-copy", message("!!history"))) == "1. first"
    messages = json.loads(exported["payload"])["messages"]
    assert messages == [{"role": "user", "content": "first"}, {"role": "assistant", "content": "first"}]


async def test_import_refuses_a_payload_it_did_not_export(agent: httpx.AsyncClient) -> None:
    for payload in ("not json", '["a list"]', '{"version": 2, "messages": []}'):
        response = await agent.put("/v1/chats/pc-x/context", json={"payload": payload})
        assert response.status_code == 422, payload
        assert "not a context exported by this agent" in response.json()["error"]["message"]


async def test_title_is_at_most_six_words_of_the_question(agent: httpx.AsyncClient) -> None:
    body = {"question": "How do I bake sourdough bread at home, quickly?", "answer": "..."}
    response = await agent.post("/v1/chats/pc-1/title", json=body)
    assert response.json() == {"title": "How do I bake sourdough bread"}
    empty = await agent.post("/v1/chats/pc-1/title", json={"question": "?!", "answer": ""})
    assert empty.status_code == 404
