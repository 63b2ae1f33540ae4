"""The scale compose stack (deploy/docker-compose.scale.yml) as a module fixture: built, up, torn down."""

from __future__ import annotations

import csv
import io
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bootstrap.homeserver import free_port
from bootstrap.synapse_admin import SharedSecretRegistrar
from tests.e2e.fullstack import require_compose
from tests.e2e.harness.images import SCALE_COMPOSE, build_compose_images, compose_env

BOT_ID = "@surfaces:localhost"  # deploy/docker-compose.scale.yml
DEVICE_ID = "SURFACESAS"  # the bot's default SURFACES_APPSERVICE_DEVICE_ID
REPLICAS = ("bot-a", "bot-b")
LEASE_S = 5  # short, so a take-over after `kill -9` comes soon; the tests never time it


@dataclass
class ScaleStack:
    """A running stack: Synapse, the load balancer and its monitor on 127.0.0.1, and `docker compose` on it."""

    project: str
    synapse_url: str
    lb_url: str
    monitor_url: str
    secret: str
    as_token: str
    hs_token: str
    env: dict[str, str]

    def compose(self, *args: str, timeout: float = 300) -> str:
        command = ["docker", "compose", "-f", str(SCALE_COMPOSE), "-p", self.project, *args]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        return result.stdout

    def container_id(self, service: str) -> str:
        return self.compose("ps", "-q", "--all", service).strip()

    def kill(self, service: str) -> None:
        """SIGKILL, as a crash: no shutdown code of the service runs."""
        container = self.container_id(service)
        subprocess.run(["docker", "kill", "--signal", "KILL", container], check=True, capture_output=True)

    def health(self, service: str) -> str:
        """Docker's health status of the service's container ("healthy", "starting", ..., or its state)."""
        template = "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}"
        inspected = subprocess.run(
            ["docker", "inspect", "--format", template, self.container_id(service)], capture_output=True, text=True
        )
        return inspected.stdout.strip()

    def start_and_wait(self, *services: str, timeout: float = 180) -> None:
        """`compose start`, then waits until every service named is healthy again."""
        self.compose("start", *services)
        deadline = time.monotonic() + timeout
        while (unhealthy := [s for s in services if self.health(s) != "healthy"]) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not unhealthy, f"{unhealthy} not healthy after {timeout} s:\n{self.logs(*services)}"

    def backends(self) -> dict[str, str]:
        """The load balancer's view of the replicas: {"bot-a": "UP", "bot-b": "DOWN", ...} (HAProxy's stats CSV)."""
        with urllib.request.urlopen(f"{self.monitor_url}/stats;csv", timeout=5) as response:
            text = response.read().decode().lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {row["svname"]: row["status"] for row in rows if row["pxname"] == "bots" and row["svname"] in REPLICAS}

    def wait_backend(self, replica: str, up: bool, timeout: float = 60) -> str:
        """Waits until the balancer has the replica in rotation (UP) or out of it; returns the status seen.

        Out of rotation is DOWN (failed checks) or, for a container that is gone, "MAINT (resolution)": Docker's
        DNS no longer knows the name.
        """
        deadline = time.monotonic() + timeout
        while (status := self.backends().get(replica, "")).startswith("UP") != up and time.monotonic() < deadline:
            time.sleep(0.5)
        assert status.startswith("UP") == up, f"{replica} is {status!r} at the balancer after {timeout} s"
        return status

    def register(self, localpart: str, password: str) -> str:
        return SharedSecretRegistrar(self.synapse_url, "localhost", self.secret).register(localpart, password)

    def new_localpart(self) -> str:
        return f"user-{uuid.uuid4().hex[:8]}"

    def logs(self, *services: str, tail: int = 80) -> str:
        return self.compose("logs", "--no-color", "--tail", str(tail), *services)[-8000:]


@pytest.fixture(scope="module")
def scale_stack() -> Iterator[ScaleStack]:
    """Images built, `up --wait` (every service healthy: both replicas ready, the balancer's checks green),
    `down --volumes` at the end. Fresh tokens and secrets each time; every port a free one on 127.0.0.1."""
    require_compose()
    print(f"scale images built (or up to date) in {build_compose_images(SCALE_COMPOSE):.1f} s")
    synapse_port, lb_port, monitor_port = free_port(), free_port(), free_port()
    stack = ScaleStack(
        project=f"surfaces-scale-{uuid.uuid4().hex[:8]}",
        synapse_url=f"http://127.0.0.1:{synapse_port}",
        lb_url=f"http://127.0.0.1:{lb_port}",
        monitor_url=f"http://127.0.0.1:{monitor_port}",
        secret=uuid.uuid4().hex,
        as_token=uuid.uuid4().hex,
        hs_token=uuid.uuid4().hex,
        env={},
    )
    stack.env = {
        **compose_env(),
        "SYNAPSE_PORT": str(synapse_port),
        "LB_PORT": str(lb_port),
        "LB_MONITOR_PORT": str(monitor_port),
        "SYNAPSE_REGISTRATION_SHARED_SECRET": stack.secret,
        "SURFACES_AS_TOKEN": stack.as_token,
        "SURFACES_HS_TOKEN": stack.hs_token,
        "SURFACES_LEASE_S": str(LEASE_S),
    }
    started = time.monotonic()
    try:
        stack.compose("up", "-d", "--wait", "--wait-timeout", "300", timeout=420)
        print(f"scale stack up (every service healthy) in {time.monotonic() - started:.1f} s")
        yield stack
    except AssertionError as error:
        raise AssertionError(f"{error}\n{stack.logs()}") from None
    finally:
        started = time.monotonic()
        subprocess.run(
            ["docker", "compose", "-f", str(SCALE_COMPOSE), "-p", stack.project, "down", "--volumes", "-t", "5"],
            env=stack.env,
            capture_output=True,
            timeout=180,
        )
        print(f"scale stack down --volumes in {time.monotonic() - started:.1f} s")


def get_status(url: str, headers: dict[str, str], method: str = "GET", body: bytes | None = None) -> tuple[int, str]:
    """Status and body of one request (an error status is an answer here, not an exception)."""
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
