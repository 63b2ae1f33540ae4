"""The compose files validate (`docker compose config -q`) and keep the promises of SPEC §6."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.fullstack import require_compose
from tests.e2e.harness.images import FULLSTACK_COMPOSE, PROD_COMPOSE, SCALE_COMPOSE, compose_env

# The prod file needs an env file; the example one lists every setting.
ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def _compose(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**compose_env(), "SURFACES_ENV_FILE": str(ENV_EXAMPLE)}
    return subprocess.run(
        ["docker", "compose", "-f", str(path), *args], env=env, capture_output=True, text=True, timeout=60
    )


def _config(path: Path) -> dict[str, Any]:
    result = _compose(path, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@pytest.fixture(autouse=True)
def _compose_available() -> None:
    require_compose()


@pytest.mark.parametrize("path", [PROD_COMPOSE, FULLSTACK_COMPOSE, SCALE_COMPOSE], ids=["prod", "fullstack", "scale"])
def test_compose_file_validates(path: Path) -> None:
    result = _compose(path, "config", "-q")
    assert result.returncode == 0, f"{path.name}: {result.stderr}"


def test_prod_is_the_bot_alone_with_its_volumes_healthcheck_and_restart_policy() -> None:
    services = _config(PROD_COMPOSE)["services"]
    assert set(services) == {"bot"}
    bot = services["bot"]
    assert {v["target"] for v in bot["volumes"]} == {"/data", "/workspace"}
    assert bot["healthcheck"]["test"][0] == "CMD"
    assert bot["restart"] == "unless-stopped"
    # The operator's settings come from the env file (here .env.example), inlined by `config`.
    assert bot["environment"]["SURFACES_HOMESERVER_URL"] == "https://matrix.example.org"
    # ... but the container's paths and bind address are not the example's dev values.
    assert bot["environment"]["SURFACES_DATA_DIR"] == "/data"
    assert bot["environment"]["SURFACES_WORKSPACE_DIR"] == "/workspace"
    assert bot["environment"]["SURFACES_HTTP_HOST"] == "0.0.0.0"


def test_fullstack_is_health_gated_on_loopback_with_one_shared_workspace() -> None:
    config = _config(FULLSTACK_COMPOSE)
    services = config["services"]
    assert set(services) == {"synapse", "register-bot", "agent", "bot"}
    conditions = {name: dep["condition"] for name, dep in services["bot"]["depends_on"].items()}
    assert conditions == {
        "synapse": "service_healthy",
        "agent": "service_healthy",
        "register-bot": "service_completed_successfully",
    }
    for name, service in services.items():
        assert service.get("pull_policy") == "never", f"{name} could be pulled"
        if name != "register-bot":
            assert "healthcheck" in service, f"{name} has no healthcheck"
        for port in service.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", f"{name} publishes {port} beyond loopback"

    def workspace(service: str) -> str:
        (source,) = [v["source"] for v in services[service]["volumes"] if v["target"] == "/workspace"]
        return str(source)

    assert workspace("bot") == workspace("agent")


def test_scale_is_health_gated_on_loopback_with_two_alike_replicas_behind_the_balancer() -> None:
    services = _config(SCALE_COMPOSE)["services"]
    assert set(services) == {"synapse-db", "bot-db", "synapse", "agent", "bot-a", "bot-b", "lb"}
    for name, service in services.items():
        assert service.get("pull_policy") == "never", f"{name} could be pulled"
        assert "healthcheck" in service or name == "lb", f"{name} has no healthcheck"  # lb: in its Dockerfile
        for port in service.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", f"{name} publishes {port} beyond loopback"
    assert {name for name, dep in services["lb"]["depends_on"].items() if dep["condition"] == "service_healthy"} == {
        "bot-a",
        "bot-b",
    }
    a, b = services["bot-a"]["environment"], services["bot-b"]["environment"]
    assert a["SURFACES_MODE"] == b["SURFACES_MODE"] == "appservice"
    for shared in ("SURFACES_AS_TOKEN", "SURFACES_HS_TOKEN", "SURFACES_DATABASE_URL", "SURFACES_USER_ID"):
        assert a[shared] == b[shared], shared
    assert a["SURFACES_REPLICA_ID"] != b["SURFACES_REPLICA_ID"]
    synapse = services["synapse"]["environment"]
    assert synapse["SYNAPSE_APPSERVICE_URL"] == "http://lb:8009"
    assert (synapse["SYNAPSE_APPSERVICE_AS_TOKEN"], synapse["SYNAPSE_APPSERVICE_HS_TOKEN"]) == (
        a["SURFACES_AS_TOKEN"],
        a["SURFACES_HS_TOKEN"],
    )
