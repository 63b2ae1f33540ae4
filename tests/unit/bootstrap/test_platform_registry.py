"""The registry builds http and openai agents from their settings, and every bad setting stops start-up
naming the field; API keys come from the environment only and never appear in an error."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bootstrap.agents_config import (
    AgentsConfigError,
    HttpSettings,
    OpenAISettings,
    build_platform,
    load_agent_registry,
)
from domain.model.agent import Done, TextDelta
from domain.model.context import ChatContext
from domain.model.ids import AgentId
from tests.servers.loopback import serve
from tests.servers.openai_compatible import FakeModelState, make_openai_app
from tests.servers.reference_agent import reference_agent
from tests.unit.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.platform.test_platform_contract import ask

SECRET = "sk-live-do-not-leak-0123456789"
REGISTRY = """\
default: reference
agents:
  - id: reference
    adapter: http
    settings: {{base_url: "{agent}/", read_timeout: 60, agent_id: lambda}}
  - id: gpt
    adapter: openai
    description: A chat model
    settings:
      base_url: {model}/v1
      model: test-model
      api_key_env: TEST_MODEL_KEY
      system_prompt: You are terse.
      temperature: 0.3
      max_history: 20
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agents.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def servers(tmp_path: Path) -> AsyncIterator[tuple[str, str, FakeModelState]]:
    model = FakeModelState(api_key=SECRET)
    async with reference_agent(tmp_path) as agent, serve(make_openai_app(model)) as openai_url:
        yield agent, openai_url, model


async def test_http_and_openai_agents_are_built_and_routed(
    tmp_path: Path, servers: tuple[str, str, FakeModelState]
) -> None:
    agent, model_url, model = servers
    registry = load_agent_registry(_write(tmp_path, REGISTRY.format(agent=agent, model=model_url)))
    assert registry.settings[AgentId("reference")] == HttpSettings(base_url=agent, read_timeout=60, agent_id="lambda")
    gpt = registry.settings[AgentId("gpt")]
    assert isinstance(gpt, OpenAISettings)
    assert (gpt.base_url, gpt.temperature, gpt.api_key_env) == (f"{model_url}/v1", 0.3, "TEST_MODEL_KEY")
    platform = build_platform(registry, uow=FakeUnitOfWorkFactory(), environ={"TEST_MODEL_KEY": SECRET})
    for agent_id in ("reference", "gpt"):
        events = await ask(platform, ChatContext.fresh(AgentId(agent_id)), "hello")
        assert events[-1] == Done()
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "hello"
    assert model.requests[-1]["messages"][0] == {"role": "system", "content": "You are terse."}
    assert await platform.health() is True
    await platform.aclose()


def test_a_missing_key_variable_stops_start_up_naming_the_field(tmp_path: Path) -> None:
    registry = load_agent_registry(_write(tmp_path, REGISTRY.format(agent="http://a", model="http://m")))
    for environ in ({}, {"TEST_MODEL_KEY": ""}):
        with pytest.raises(AgentsConfigError) as raised:
            build_platform(registry, uow=FakeUnitOfWorkFactory(), environ=environ)
        assert str(raised.value) == (
            f"{tmp_path / 'agents.yaml'}: agents.1.settings.api_key_env: environment variable TEST_MODEL_KEY is not set"
        )


def test_an_openai_agent_needs_the_database(tmp_path: Path) -> None:
    registry = load_agent_registry(_write(tmp_path, REGISTRY.format(agent="http://a", model="http://m")))
    with pytest.raises(AgentsConfigError, match=r"agent 'gpt' uses adapter 'openai'.*needs uow="):
        build_platform(registry, environ={"TEST_MODEL_KEY": "k"})


def test_an_openai_agent_without_a_key_variable_needs_no_environment(tmp_path: Path) -> None:
    settings = "{base_url: 'http://127.0.0.1:11434/v1', model: llama3}"
    text = f"default: local\nagents: [{{id: local, adapter: openai, settings: {settings}}}]\n"
    registry = load_agent_registry(_write(tmp_path, text))
    build_platform(registry, uow=FakeUnitOfWorkFactory(), environ={})


@pytest.mark.parametrize(
    ("adapter", "settings", "field"),
    [
        ("http", "{}", "agents.0.settings.base_url: Field required"),
        ("http", "{base_url: 'ftp://agent'}", "agents.0.settings.base_url: Value error, must be an http"),
        ("http", "{base_url: agent:8090}", "agents.0.settings.base_url: Value error, must be an http"),
        ("http", "{base_url: 'http://a', read_timeout: 0}", "agents.0.settings.read_timeout: Input should be greater"),
        (
            "http",
            "{base_url: 'http://a', read_timeout: '5'}",
            "agents.0.settings.read_timeout: Input should be a valid",
        ),
        ("http", "{base_url: 'http://a', url: 'http://b'}", "agents.0.settings.url: Extra inputs"),
        ("openai", "{}", "agents.0.settings.model: Field required"),
        ("openai", "{model: ''}", "agents.0.settings.model: String should have at least 1"),
        ("openai", "{model: m, temperature: 3}", "agents.0.settings.temperature: Input should be less"),
        ("openai", "{model: m, max_history: 0}", "agents.0.settings.max_history: Input should be greater"),
        ("openai", "{model: m, api_key_env: 'MY KEY'}", "agents.0.settings.api_key_env: String should match"),
        ("openai", "{model: m, base_url: localhost}", "agents.0.settings.base_url: Value error, must be an http"),
        ("openai", "{model: m, max_retries: -1}", "agents.0.settings.max_retries: Input should be greater"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_field(tmp_path: Path, adapter: str, settings: str, field: str) -> None:
    path = _write(tmp_path, f"default: a\nagents: [{{id: a, adapter: {adapter}, settings: {settings}}}]\n")
    with pytest.raises(AgentsConfigError) as raised:
        load_agent_registry(path)
    assert f"{path}: {field}" in str(raised.value)


def test_a_key_written_into_the_file_is_refused_without_being_repeated(tmp_path: Path) -> None:
    path = _write(
        tmp_path, f"default: a\nagents: [{{id: a, adapter: openai, settings: {{model: m, api_key: {SECRET}}}}}]\n"
    )
    with pytest.raises(AgentsConfigError) as raised:
        load_agent_registry(path)
    assert "agents.0.settings: Value error, api_key: keys do not belong in this file" in str(raised.value)
    assert "api_key_env" in str(raised.value)
    assert SECRET not in str(raised.value)
