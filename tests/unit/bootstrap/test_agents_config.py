"""The agent registry file: the shipped one loads, a missing one means the built-in echo, and every
mistake is reported with the file and the field."""

from pathlib import Path

import pytest

from bootstrap.agents_config import (
    AgentsConfigError,
    EchoSettings,
    build_platform,
    load_agent_registry,
)
from domain.model.agent import Done
from domain.model.context import ChatContext
from domain.model.ids import AgentId
from ports.platform import ContextTransferUnsupported
from tests.unit.platform.test_platform_contract import ask

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "agents.yaml"
VALID = """\
default: echo
agents:
  - id: echo
    adapter: echo
    description: Repeats what you say
  - id: slow
    adapter: echo
    settings: {delay_per_chunk: 0.5, context_transfer: false}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agents.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_shipped_registry_has_three_echo_agents_and_builds() -> None:
    registry = load_agent_registry(SHIPPED)
    assert registry.directory.default == "echo"
    assert [spec.agent_id for spec in registry.directory.agents] == ["echo", "echo-2", "echo-nosave"]
    assert registry.settings[AgentId("echo-nosave")] == EchoSettings(context_transfer=False)
    platform = build_platform(registry)
    assert await platform.health() is True
    with pytest.raises(ContextTransferUnsupported, match="agent echo-nosave cannot save or load context"):
        await platform.export_context(ChatContext.fresh(AgentId("echo-nosave")))


async def test_missing_file_means_the_built_in_echo_agent(tmp_path: Path) -> None:
    registry = load_agent_registry(tmp_path / "absent.yaml")
    assert registry.directory.default == "echo"
    assert [spec.adapter for spec in registry.directory.agents] == ["echo"]
    events = await ask(build_platform(registry), ChatContext.fresh(AgentId("echo")), "hi")
    assert events[-1] == Done()


def test_settings_are_kept_per_agent(tmp_path: Path) -> None:
    registry = load_agent_registry(_write(tmp_path, VALID))
    assert registry.settings[AgentId("slow")] == EchoSettings(delay_per_chunk=0.5, context_transfer=False)
    assert registry.directory.get("echo") is not None
    assert registry.source == str(tmp_path / "agents.yaml")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("default: echo\nagents:\n  - id: echo\n   adapter: echo\n", "line 4, column 4: not valid YAML"),
        ("- just a list\n", "(top level)"),
        ("", "(top level)"),
        ("agents: [{id: echo, adapter: echo}]\n", "default"),
        ("default: echo\nagents: []\n", "agents"),
        ("default: echo\nagents: [{id: echo, adapter: echo}, {id: b, adapter: carrier-pigeon}]\n", "agents.1.adapter"),
        ("default: echo\nagents: [{id: echo, adapter: echo}, {id: echo, adapter: echo}]\n", "agents.1.id"),
        ("default: other\nagents: [{id: echo, adapter: echo}]\n", "default"),
        (
            "default: echo\nagents: [{id: echo, adapter: echo, settings: {context_transfer: maybe}}]\n",
            "agents.0.settings.context_transfer",
        ),
        (
            "default: echo\nagents: [{id: echo, adapter: echo, settings: {delay_per_chunk: -1}}]\n",
            "agents.0.settings.delay_per_chunk",
        ),
        ("default: echo\nagents: [{id: echo, adapter: echo, settings: {colour: red}}]\n", "agents.0.settings.colour"),
        ("default: echo\nagents: [{id: echo, adapter: echo, model: gpt}]\n", "agents.0.model"),
        ("default: echo\nagents: [{id: echo, adapter: echo}]\nextra: 1\n", "extra"),
        ("default: echo\nagents: [{id: 'two words', adapter: echo}]\n", "agents.0.id"),
    ],
)
def test_malformed_registry_names_the_file_and_the_field(tmp_path: Path, text: str, field: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(AgentsConfigError) as raised:
        load_agent_registry(path)
    assert str(path) in str(raised.value)
    assert f"{field}" in str(raised.value)
