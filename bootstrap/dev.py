"""`surfaces dev`: a local Synapse, a bot account and a demo user, then the bot itself."""

import json
import secrets
from pathlib import Path

import click

from bootstrap.homeserver import LocalSynapse
from bootstrap.logging import configure_logging
from bootstrap.settings import Settings

BOT_LOCALPART = "surfaces"
DEMO_LOCALPART = "demo"


def _credentials(path: Path) -> dict[str, str]:
    """Passwords made once and kept, so a second start reuses the same accounts."""
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    created = {"bot": secrets.token_urlsafe(18), "demo": secrets.token_urlsafe(12)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(created))
    path.chmod(0o600)
    return created


def run_dev(base_dir: Path, port: int, http_port: int) -> None:
    configure_logging("console")
    synapse = LocalSynapse(base_dir=base_dir / "synapse", port=port)
    click.echo(f"starting Synapse on {synapse.url} (data in {synapse.base_dir}) ...")
    synapse.start()
    try:
        passwords = _credentials(base_dir / "credentials.json")
        bot_id = synapse.register(BOT_LOCALPART, passwords["bot"], admin=False)
        demo_id = synapse.register(DEMO_LOCALPART, passwords["demo"], admin=False)
        settings = Settings(
            homeserver_url=synapse.url,
            user_id=bot_id,
            password=passwords["bot"],  # type: ignore[arg-type]
            data_dir=base_dir / "bot",
            workspace_dir=base_dir / "workspace",
            http_port=http_port,
            log_format="console",
        )
        _print_banner(synapse.url, bot_id, demo_id, passwords["demo"], http_port)
        configure_logging("console", secrets=settings.secrets())
        from bootstrap.command_support import load_agents, run_until_done
        from bootstrap.runtime import run_bot

        run_until_done(run_bot(settings, load_agents(settings)))
    except KeyboardInterrupt:
        pass
    finally:
        synapse.stop()
        click.echo("stopped Synapse")


def _print_banner(url: str, bot_id: str, demo_id: str, demo_password: str, http_port: int) -> None:
    click.echo(
        "\n".join(
            [
                "",
                "surfaces dev is starting:",
                f"  homeserver  {url}",
                f"  demo user   {demo_id}   password: {demo_password}",
                f"  bot         {bot_id}",
                f"  health      http://127.0.0.1:{http_port}/ready",
                "Log in with any Matrix client, invite the bot to a room, and chat. Ctrl-C stops everything.",
                "",
            ]
        )
    )
