"""The Synapse configuration the images write: SQLite by default, PostgreSQL and registrations when given."""

import importlib.util
from pathlib import Path
from types import ModuleType

import yaml

from bootstrap.homeserver import LocalSynapse, PostgresDatabase

START_PY = Path(__file__).resolve().parents[3] / "deploy" / "synapse" / "start.py"


def _config(server: LocalSynapse) -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(server.write_config().read_text())
    return loaded


def _start_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("synapse_start", START_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sqlite_under_the_base_dir_unless_postgres_is_given(tmp_path: Path) -> None:
    database = _config(LocalSynapse(tmp_path))["database"]
    assert database == {"name": "sqlite3", "args": {"database": str(tmp_path.resolve() / "homeserver.db")}}


def test_postgres_is_psycopg2_with_the_connection_given(tmp_path: Path) -> None:
    postgres = PostgresDatabase(host="synapse-db", database="synapse", user="synapse", password="secret")
    database = _config(LocalSynapse(tmp_path, postgres=postgres))["database"]
    assert database == {
        "name": "psycopg2",
        "args": {
            "host": "synapse-db",
            "port": 5432,
            "database": "synapse",
            "user": "synapse",
            "password": "secret",
            "cp_min": 5,
            "cp_max": 10,
        },
    }


def test_start_renders_the_registration_from_the_environment(tmp_path: Path) -> None:
    env = {
        "SYNAPSE_APPSERVICE_URL": "http://lb:8009",
        "SYNAPSE_APPSERVICE_AS_TOKEN": "as-token",
        "SYNAPSE_APPSERVICE_HS_TOKEN": "hs-token",
        "SYNAPSE_APP_SERVICE_CONFIG_FILES": "/etc/other.yaml",
    }
    files = _start_module().registrations(env, tmp_path, "localhost")
    assert files == (Path("/etc/other.yaml"), tmp_path / "surfaces-registration.yaml")
    rendered = yaml.safe_load(files[1].read_text())
    assert (rendered["url"], rendered["as_token"], rendered["hs_token"]) == ("http://lb:8009", "as-token", "hs-token")
    assert rendered["sender_localpart"] == "surfaces" and rendered["rate_limited"] is False
    assert rendered["namespaces"]["users"] == [{"exclusive": True, "regex": "@surfaces:localhost"}]
    assert files[1].stat().st_mode & 0o077 == 0


def test_start_loads_no_registration_when_none_is_given(tmp_path: Path) -> None:
    assert _start_module().registrations({}, tmp_path, "localhost") == ()
