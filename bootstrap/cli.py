"""The `surfaces` command: run, dev, migrate."""

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from bootstrap.agents_config import AgentRegistry, AgentsConfigError, load_agent_registry
from bootstrap.errors import EXIT_CONFIG, StartupError
from bootstrap.logging import configure_logging
from bootstrap.settings import Settings

T = TypeVar("T")


def run_until_done(main: Coroutine[Any, Any, T]) -> T:
    """Runs the coroutine; a StartupError becomes its message on stderr and its exit code."""
    try:
        return asyncio.run(main)
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


@click.group()
def main() -> None:
    """surfaces — the Matrix chat surface of an AI agent platform."""


@main.command()
def run() -> None:
    """Run the bot, configured by the SURFACES_* environment variables."""
    settings = load_settings()
    configure_logging(settings.log_format or "json", secrets=settings.secrets())
    agents = load_agents(settings)
    from bootstrap.runtime import run_bot  # imported late: nothing heavy before logging is set up

    run_until_done(run_bot(settings, agents))


@main.command()
@click.option("--dir", "base_dir", type=click.Path(path_type=Path), default=Path("var/dev"), show_default=True)
@click.option("--port", type=int, default=8008, show_default=True, help="port of the local Synapse")
@click.option("--http-port", type=int, default=8080, show_default=True, help="port of /health, /ready, /metrics")
def dev(base_dir: Path, port: int, http_port: int) -> None:
    """Embedded default: a local Synapse, the bot with the echo agent, and a demo user."""
    from bootstrap.dev import run_dev

    run_dev(base_dir.resolve(), port, http_port)


@main.command()
@click.option("--dry-run", is_flag=True, help="report what would change, change nothing")
def reconcile(dry_run: bool) -> None:
    """Rebuild the index from Matrix state and repair links; prints the report as JSON."""
    settings = load_settings()
    configure_logging(settings.log_format or "console", secrets=settings.secrets())
    agents = load_agents(settings)
    from bootstrap.runtime import reconcile_once

    report = run_until_done(reconcile_once(settings, agents, dry_run))
    click.echo(report.model_dump_json(indent=2))


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = load_settings()
    configure_logging(settings.log_format or "console", secrets=settings.secrets())
    from adapters.persistence.migrate import upgrade_database

    run_until_done(upgrade_database(settings.effective_database_url))
    click.echo("database is up to date")


if __name__ == "__main__":
    main()
