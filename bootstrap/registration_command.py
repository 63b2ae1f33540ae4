"""`surfaces registration`: the YAML on stdout, the settings that go with it on stderr."""

import sys
from urllib.parse import urlsplit

import click
import yaml

from adapters.matrix.appservice.registration import Registration
from bootstrap.errors import EXIT_CONFIG


def print_registration(url: str, user_id: str | None, localpart: str | None, namespace: str | None) -> None:
    if not url.startswith(("http://", "https://")):
        _fail("--url must start with http:// or https://")
    if not user_id or ":" not in user_id or not user_id.startswith("@"):
        _fail("give the bot's Matrix id: --user-id @bot:example.org or SURFACES_USER_ID")
    assert user_id is not None
    own_localpart, server_name = user_id[1:].split(":", 1)
    registration = Registration.generate(url.rstrip("/"), localpart or own_localpart, server_name)
    click.echo(yaml.safe_dump(registration.as_dict(namespace), sort_keys=False), nl=False)
    port = urlsplit(url).port or (443 if url.startswith("https://") else 80)
    for line in (
        "# Set these for the bot (and put the YAML above in Synapse's app_service_config_files):",
        "SURFACES_MODE=appservice",
        f"SURFACES_AS_TOKEN={registration.as_token}",
        f"SURFACES_HS_TOKEN={registration.hs_token}",
        f"SURFACES_APPSERVICE_PORT={port}",
        "SURFACES_DATABASE_URL=postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE",
    ):
        click.echo(line, err=True)


def _fail(message: str) -> None:
    click.echo(f"surfaces: {message}", err=True)
    sys.exit(EXIT_CONFIG)
