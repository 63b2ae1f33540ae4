"""Container entry point: write homeserver.yaml into /data from the environment, then become Synapse.

Besides the variables listed in the Dockerfile:
  SYNAPSE_POSTGRES_HOST (and _PORT, _DB, _USER, _PASSWORD)  PostgreSQL instead of SQLite
  SYNAPSE_APP_SERVICE_CONFIG_FILES  comma-separated registration files to load (e.g. `surfaces registration` output)
  SYNAPSE_APPSERVICE_URL (and _AS_TOKEN, _HS_TOKEN, _SENDER)  render the bot's registration at start instead
"""

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

from adapters.matrix.appservice.registration import Registration
from bootstrap.homeserver import LocalSynapse, PostgresDatabase

PORT = 8008


def main() -> None:
    env = os.environ
    server_name = env.get("SYNAPSE_SERVER_NAME", "localhost")
    base_dir = Path(env.get("SYNAPSE_DATA_DIR", "/data"))
    server = LocalSynapse(
        base_dir=base_dir,
        port=PORT,
        server_name=server_name,
        max_upload_mb=int(env.get("SYNAPSE_MAX_UPLOAD_MB", "50")),
        bind_address="0.0.0.0",  # noqa: S104 - inside the container; the host publishes it on 127.0.0.1
        public_baseurl=env.get("SYNAPSE_PUBLIC_BASEURL", f"http://localhost:{PORT}/"),
        registration_shared_secret=env.get("SYNAPSE_REGISTRATION_SHARED_SECRET") or None,
        log_to_file=False,
        encrypt_new_rooms=env.get("SYNAPSE_ENCRYPT_NEW_ROOMS", "") == "1",
        app_service_config_files=registrations(env, base_dir, server_name),
        postgres=postgres(env),
    )
    config = server.write_config()
    os.chdir(server.base_dir)
    # exec: Synapse becomes PID 1 and gets the SIGTERM of `docker stop` itself.
    os.execv(sys.executable, [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config)])  # noqa: S606


def postgres(env: Mapping[str, str]) -> PostgresDatabase | None:
    if not env.get("SYNAPSE_POSTGRES_HOST"):
        return None
    return PostgresDatabase(
        host=env["SYNAPSE_POSTGRES_HOST"],
        port=int(env.get("SYNAPSE_POSTGRES_PORT", "5432")),
        database=env.get("SYNAPSE_POSTGRES_DB", "synapse"),
        user=env.get("SYNAPSE_POSTGRES_USER", "synapse"),
        password=env.get("SYNAPSE_POSTGRES_PASSWORD", ""),
    )


def registrations(env: Mapping[str, str], base_dir: Path, server_name: str) -> tuple[Path, ...]:
    """The registration files given, plus the bot's, rendered from the environment when its URL is set.

    Rendered with the class `surfaces registration` uses, so the file is the one an operator would get,
    with the tokens the bots are given instead of fresh ones (a compose file can hand both sides the same).
    """
    given = tuple(Path(path) for path in env.get("SYNAPSE_APP_SERVICE_CONFIG_FILES", "").split(",") if path)
    url = env.get("SYNAPSE_APPSERVICE_URL")
    if not url:
        return given
    registration = Registration(
        url=url,
        sender_localpart=env.get("SYNAPSE_APPSERVICE_SENDER", "surfaces"),
        server_name=server_name,
        as_token=env["SYNAPSE_APPSERVICE_AS_TOKEN"],
        hs_token=env["SYNAPSE_APPSERVICE_HS_TOKEN"],
    )
    rendered = base_dir / "surfaces-registration.yaml"
    rendered.write_text(yaml.safe_dump(registration.as_dict(), sort_keys=False))
    rendered.chmod(0o600)  # it holds both tokens
    return (*given, rendered)


if __name__ == "__main__":
    main()
