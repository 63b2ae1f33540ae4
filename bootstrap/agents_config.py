"""The agent registry (`config/agents.yaml`): which agents exist, their adapters, and the default one."""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.platform.echo import EchoPlatformClient
from adapters.platform.routed import RoutedPlatformClient
from bootstrap.agent_settings import (
    SETTINGS_BY_ADAPTER,
    AdapterSettings,
    EchoSettings,
    HttpSettings,
    OpenAISettings,
)
from domain.model.agents import AgentDirectory, AgentSpec
from domain.model.ids import AgentId
from ports.platform import PlatformClient
from ports.unit_of_work import UnitOfWorkFactory

__all__ = [
    "AdapterSettings",
    "AgentRegistry",
    "AgentsConfigError",
    "EchoSettings",
    "HttpSettings",
    "OpenAISettings",
    "build_platform",
    "built_in_registry",
    "load_agent_registry",
]

BUILT_IN = "built-in registry"
AdapterName = Literal["echo", "http", "openai"]


class AgentsConfigError(Exception):
    """The agent registry file is unreadable or invalid; the message names the file and the field."""


class _AgentEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # No whitespace: the id is typed after a chat command.
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    adapter: AdapterName
    description: str = ""
    # Checked per adapter in a second pass, so error paths read `agents.N.settings.field`.
    settings: dict[str, Any] = Field(default_factory=dict)


class _AgentsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: str
    agents: list[_AgentEntry] = Field(min_length=1)


@dataclass(frozen=True, kw_only=True)
class AgentRegistry:
    """The agents as configured: the domain's directory plus each agent's adapter settings."""

    directory: AgentDirectory
    settings: Mapping[AgentId, AdapterSettings]
    source: str = BUILT_IN


def built_in_registry() -> AgentRegistry:
    echo = AgentId("echo")
    spec = AgentSpec(agent_id=echo, adapter="echo", description="Repeats what you say")
    return AgentRegistry(directory=AgentDirectory(agents=(spec,), default=echo), settings={echo: EchoSettings()})


def load_agent_registry(path: Path) -> AgentRegistry:
    """The registry in `path`, or the built-in one when there is no such file; AgentsConfigError when invalid."""
    if not path.exists():
        return built_in_registry()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise AgentsConfigError(f"{path}: cannot read: {error}") from error
    except yaml.YAMLError as error:
        raise AgentsConfigError(_describe_yaml(path, error)) from error
    return _registry(path, raw)


def _describe_yaml(path: Path, error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{path}: {where}not valid YAML: {problem}"


def _registry(path: Path, raw: object) -> AgentRegistry:
    if not isinstance(raw, dict):
        raise AgentsConfigError(f"{path}: (top level): expected a mapping with the keys default and agents")
    try:
        parsed = _AgentsFile.model_validate(raw)
    except ValidationError as error:
        raise AgentsConfigError(_describe(path, error)) from error
    settings: dict[AgentId, AdapterSettings] = {}
    for index, entry in enumerate(parsed.agents):
        if AgentId(entry.id) in settings:
            raise AgentsConfigError(f"{path}: agents.{index}.id: agent {entry.id!r} is listed twice")
        try:
            settings[AgentId(entry.id)] = SETTINGS_BY_ADAPTER[entry.adapter].model_validate(entry.settings)
        except ValidationError as error:
            raise AgentsConfigError(_describe(path, error, prefix=f"agents.{index}.settings")) from error
    if AgentId(parsed.default) not in settings:
        raise AgentsConfigError(f"{path}: default: agent {parsed.default!r} is not listed under agents")
    specs = tuple(
        AgentSpec(
            agent_id=AgentId(entry.id),
            adapter=entry.adapter,
            description=entry.description,
            max_image_bytes=_vision_limit(settings[AgentId(entry.id)]),
        )
        for entry in parsed.agents
    )
    directory = AgentDirectory(agents=specs, default=AgentId(parsed.default))
    return AgentRegistry(directory=directory, settings=settings, source=str(path))


def _vision_limit(settings: AdapterSettings) -> int | None:
    return settings.vision_max_bytes if isinstance(settings, OpenAISettings) else None


def _describe(path: Path, error: ValidationError, prefix: str = "") -> str:
    problems = []
    for item in error.errors(include_url=False):
        parts = ([prefix] if prefix else []) + [str(part) for part in item["loc"]]
        problems.append(f"{path}: {'.'.join(parts) or '(top level)'}: {item['msg']}")
    return "\n".join(problems)


def build_platform(
    registry: AgentRegistry,
    workspace_dir: Path | None = None,
    *,
    uow: UnitOfWorkFactory | None = None,
    environ: Mapping[str, str] | None = None,
) -> RoutedPlatformClient:
    """One adapter per agent in the registry, routed by agent id.

    `workspace_dir` is the shared workspace root, for adapters that write files there (echo's `!!write`);
    `uow` is where the openai adapter keeps each conversation's transcript (required when the registry has
    an openai agent); `environ` is where API keys are looked up (default: the process environment).
    A key variable that is not set fails here, naming the field, so a bad registry stops start-up.
    Close the result with `aclose()` at shutdown.
    """
    clients: dict[AgentId, PlatformClient] = {}
    for index, spec in enumerate(registry.directory.agents):
        context = _BuildContext(
            registry=registry,
            index=index,
            agent_id=spec.agent_id,
            workspace_dir=workspace_dir,
            uow=uow,
            environ=os.environ if environ is None else environ,
        )
        build = _BUILDERS.get(spec.adapter)
        if build is None:
            raise AgentsConfigError(
                f"{registry.source}: agents.{index}.adapter: unknown adapter {spec.adapter!r} "
                f"(available: {', '.join(sorted(_BUILDERS))})"
            )
        clients[spec.agent_id] = build(registry.settings[spec.agent_id], context)
    return RoutedPlatformClient(clients)


@dataclass(frozen=True, kw_only=True)
class _BuildContext:
    registry: AgentRegistry
    index: int
    agent_id: AgentId
    workspace_dir: Path | None
    uow: UnitOfWorkFactory | None
    environ: Mapping[str, str]

    def error(self, field: str, problem: str) -> AgentsConfigError:
        return AgentsConfigError(f"{self.registry.source}: agents.{self.index}.settings.{field}: {problem}")


def _echo(settings: AdapterSettings, context: _BuildContext) -> PlatformClient:
    assert isinstance(settings, EchoSettings)
    return EchoPlatformClient(
        delay_per_chunk=settings.delay_per_chunk,
        context_transfer=settings.context_transfer,
        workspace_dir=context.workspace_dir,
    )


# The http and openai adapters are imported by their builders, so a bot whose registry does not use them
# never loads httpx, httpx-sse or openai (about 25 MB resident together; docs/decisions.md).
def _http(settings: AdapterSettings, context: _BuildContext) -> PlatformClient:
    assert isinstance(settings, HttpSettings)
    from adapters.platform.http import HttpPlatformClient, HttpTimeouts

    timeouts = HttpTimeouts(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.write_timeout,
        health=settings.health_timeout,
    )
    return HttpPlatformClient(settings.base_url, settings.agent_id or context.agent_id, timeouts)


def _openai(settings: AdapterSettings, context: _BuildContext) -> PlatformClient:
    assert isinstance(settings, OpenAISettings)
    if context.uow is None:
        raise AgentsConfigError(
            f"{context.registry.source}: agent {context.agent_id!r} uses adapter 'openai', which keeps "
            "history in the database: build_platform needs uow="
        )
    from adapters.platform.openai import ChatModelOptions, OpenAIPlatformClient

    api_key = None
    if settings.api_key_env is not None:
        api_key = context.environ.get(settings.api_key_env) or None
        if api_key is None:
            raise context.error("api_key_env", f"environment variable {settings.api_key_env} is not set")
    options = ChatModelOptions(
        model=settings.model,
        system_prompt=settings.system_prompt,
        temperature=settings.temperature,
        max_history=settings.max_history,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        max_retries=settings.max_retries,
        vision_max_bytes=settings.vision_max_bytes,
    )
    return OpenAIPlatformClient(context.uow, options, settings.base_url, api_key, context.workspace_dir)


_BUILDERS: Mapping[str, Callable[[AdapterSettings, _BuildContext], PlatformClient]] = {
    "echo": _echo,
    "http": _http,
    "openai": _openai,
}
