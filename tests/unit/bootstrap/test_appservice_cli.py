"""`surfaces registration` and the start-up refusals of appservice mode, through the CLI."""

import yaml
from click.testing import CliRunner

from bootstrap.cli import main

APPSERVICE = {
    "SURFACES_HOMESERVER_URL": "http://127.0.0.1:1",
    "SURFACES_USER_ID": "@bot:localhost",
    "SURFACES_MODE": "appservice",
    "SURFACES_AS_TOKEN": "as",
    "SURFACES_HS_TOKEN": "hs",
}


def test_registration_prints_the_yaml_and_the_settings_to_set() -> None:
    result = CliRunner().invoke(
        main, ["registration", "--url", "http://127.0.0.1:8123", "--user-id", "@surfaces:example.org"]
    )
    assert result.exit_code == 0, result.stderr
    registration = yaml.safe_load(result.stdout)
    assert registration["sender_localpart"] == "surfaces" and registration["url"] == "http://127.0.0.1:8123"
    assert f"SURFACES_AS_TOKEN={registration['as_token']}" in result.stderr
    assert f"SURFACES_HS_TOKEN={registration['hs_token']}" in result.stderr
    assert "SURFACES_MODE=appservice" in result.stderr and "SURFACES_APPSERVICE_PORT=8123" in result.stderr


def test_appservice_mode_without_postgresql_stops_with_exit_code_2_naming_the_variable() -> None:
    result = CliRunner().invoke(main, ["run"], env=APPSERVICE)
    assert result.exit_code == 2
    assert "SURFACES_DATABASE_URL" in result.stderr and "PostgreSQL" in result.stderr


def test_appservice_mode_with_encryption_is_refused() -> None:
    env = {**APPSERVICE, "SURFACES_DATABASE_URL": "postgresql+asyncpg://u@h/d", "SURFACES_ENCRYPTION": "true"}
    result = CliRunner().invoke(main, ["run"], env=env)
    assert result.exit_code == 2 and "SURFACES_ENCRYPTION" in result.stderr
