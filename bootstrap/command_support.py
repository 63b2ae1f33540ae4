"""What every `surfaces` command does around its work: settings and the agent registry loaded with clear errors,
a coroutine run with a StartupError turned into its message and exit code. Shared by `cli` and `dev`."""

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
import uvloop
from pydantic import ValidationError

from bootstrap.agents_config import AgentRegistry, AgentsConfigError, load_agent_registry
from bootstrap.errors import EXIT_CONFIG, StartupError
from bootstrap.settings import Settings

T = TypeVar("T")


def run_until_done(main: Coroutine[Any, Any, T]) -> T:
    """Runs the coroutine on uvloop; a StartupError becomes its message on stderr and its exit code.

    uvloop, not asyncio's own loop: the bot is a loop of small network round trips (homeserver, agent, and in
    appservice mode PostgreSQL several times per message), and asyncio's selector loop spent a fifth of an
    appservice replica's CPU in a burst polling and writing sockets (py-spy). The code stays plain asyncio."""
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main)
    except StartupError as error:
        click.echo(f"surfaces: {error}", err=True)
        sys.exit(error.exit_code)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and `.env`; a clear message and exit code 2 when they are wrong."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        click.echo("surfaces: invalid configuration:", err=True)
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"]) or "settings"
            name = f"SURFACES_{field.upper()}" if problem["loc"] else field
            click.echo(f"  {name}: {problem['msg']}", err=True)
        sys.exit(EXIT_CONFIG)


def load_agents(settings: Settings) -> AgentRegistry:
    """The agent registry; a malformed file stops start-up with a message naming the field."""
    try:
        return load_agent_registry(settings.agents_file)
    except AgentsConfigError as error:
        click.echo(f"surfaces: {error}", err=True)
        sys.exit(EXIT_CONFIG)
