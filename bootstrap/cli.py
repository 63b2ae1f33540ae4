"""The `surfaces` command: run, dev, reconcile, registration, migrate."""

from pathlib import Path

import click

from bootstrap.command_support import load_agents, load_settings, run_until_done
from bootstrap.logging import configure_logging


@click.group()
def main() -> None:
    """surfaces — the Matrix chat surface of an AI agent platform."""


@main.command()
def run() -> None:
    """Run the bot, configured by the SURFACES_* environment variables."""
    settings = load_settings()
    configure_logging(settings.log_format or "json", secrets=settings.secrets())
    agents = load_agents(settings)
    if settings.mode == "appservice":
        from bootstrap.appservice_runtime import run_appservice

        run_until_done(run_appservice(settings, agents))
        return
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
@click.option("--url", required=True, help="where the homeserver reaches the bot, e.g. http://127.0.0.1:8009")
@click.option("--user-id", envvar="SURFACES_USER_ID", help="the bot's Matrix id  [default: $SURFACES_USER_ID]")
@click.option("--localpart", help="the sender's localpart  [default: the bot's]")
@click.option("--namespace", help="the users regex  [default: the bot's own id only]")
def registration(url: str, user_id: str | None, localpart: str | None, namespace: str | None) -> None:
    """Print the appservice registration YAML (fresh tokens) for Synapse's app_service_config_files."""
    from bootstrap.registration_command import print_registration

    print_registration(url, user_id, localpart, namespace)


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
