"""With AGENT_UPSTREAM_URL the reference agent forwards to an OpenAI-compatible server, keeping its sessions."""

from pathlib import Path

import httpx
from pydantic import SecretStr

from tests.servers.loopback import serve
from tests.servers.openai_compatible import FakeModelState, make_openai_app
from tests.servers.reference_agent import reference_agent
from tests.unit.platform_agent.wire import message, post, text_of


async def test_answers_come_from_the_upstream_with_the_conversation_so_far(workspace: Path) -> None:
    model = FakeModelState(api_key="sk-test")
    async with serve(make_openai_app(model)) as upstream:
        settings = {"upstream_url": f"{upstream}/v1", "upstream_model": "m1", "upstream_api_key": SecretStr("sk-test")}
        async with reference_agent(workspace, **settings) as url, httpx.AsyncClient(base_url=url) as agent:
            assert (await agent.get("/health")).json()["mode"] == "upstream"
            assert text_of(await post(agent, "pc-1", message("hello upstream"))) == "hello upstream"
            assert text_of(await post(agent, "pc-1", message("second"))) == "second"
            assert text_of(await post(agent, "pc-1", message("!!history"))) == "1. hello upstream\n2. second"
            question = {"question": "one two three four five six seven", "answer": ""}
            title = await agent.post("/v1/chats/pc-1/title", json=question)
    assert model.requests[1]["model"] == "m1"
    assert model.requests[1]["messages"] == [
        {"role": "user", "content": "hello upstream"},
        {"role": "assistant", "content": "hello upstream"},
        {"role": "user", "content": "second"},
    ]
    assert title.json()["title"] == "Question one two three four five"


async def test_upstream_failures_become_error_events_retryable_by_status(workspace: Path) -> None:
    async with serve(make_openai_app(FakeModelState(api_key="the-right-key"))) as upstream:
        wrong_key = {"upstream_url": f"{upstream}/v1", "upstream_model": "m1", "upstream_api_key": SecretStr("wrong")}
        async with reference_agent(workspace, **wrong_key) as url, httpx.AsyncClient(base_url=url) as agent:
            refused = await post(agent, "pc-1", message("hello"))
    async with serve(make_openai_app()) as upstream:
        settings = {"upstream_url": f"{upstream}/v1", "upstream_model": "m1"}
        async with reference_agent(workspace, **settings) as url, httpx.AsyncClient(base_url=url) as agent:
            broken = await post(agent, "pc-1", message("!!boom"))
            cut = await post(agent, "pc-1", message("!!cut"))
    assert refused[-1].data == {"message": "upstream answered 401: Incorrect API key provided", "retryable": False}
    assert broken[-1].data == {"message": "upstream answered 500: the test model broke", "retryable": True}
    assert cut[-1].data == {"message": "the upstream answer was cut off", "retryable": True}


async def test_an_unreachable_upstream_is_a_retryable_error(workspace: Path, unused_port: int) -> None:
    settings = {"upstream_url": f"http://127.0.0.1:{unused_port}/v1", "upstream_model": "m1"}
    async with reference_agent(workspace, **settings) as url, httpx.AsyncClient(base_url=url) as agent:
        events = await post(agent, "pc-1", message("hello"))
    assert events[-1].event == "error"
    assert events[-1].data["retryable"] is True
    assert "upstream unreachable" in events[-1].data["message"]
