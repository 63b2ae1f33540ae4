"""The fullstack compose stack (deploy/docker-compose.fullstack.yml) as a fixture: built, up, and torn down."""

from __future__ import annotations

import json
import re
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
from tests.e2e.harness.images import FULLSTACK_COMPOSE, build_fullstack_images, compose_env, compose_problem

BOT_ID = "@surfaces:localhost"  # deploy/docker-compose.fullstack.yml
_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$")


def require_compose() -> None:
    """Fails with the reason when Docker or Compose is missing: these tests never skip (`make test` installs both)."""
    problem = compose_problem()
    if problem is not None:
        pytest.fail(
            f"the container tests need Docker and Compose v2 (scripts/prepare-docker.sh): {problem}", pytrace=False
        )


@dataclass
class Stack:
    """A running stack: its Synapse and the bot's endpoint on 127.0.0.1, and `docker compose` on it."""

    project: str
    synapse_url: str
    bot_http: str
    secret: str
    env: dict[str, str]

    def compose(self, *args: str, timeout: float = 300) -> str:
        command = ["docker", "compose", "-f", str(FULLSTACK_COMPOSE), "-p", self.project, *args]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        return result.stdout

    def container_id(self, service: str) -> str:
        return self.compose("ps", "-q", "--all", service).strip()

    def inspect(self, service: str) -> dict[str, object]:
        out = subprocess.run(["docker", "inspect", self.container_id(service)], capture_output=True, text=True)
        inspected: list[dict[str, object]] = json.loads(out.stdout)
        return inspected[0]

    def register(self, localpart: str, password: str) -> str:
        return SharedSecretRegistrar(self.synapse_url, "localhost", self.secret).register(localpart, password)

    def new_localpart(self) -> str:
        return f"user-{uuid.uuid4().hex[:8]}"

    def metrics(self) -> dict[str, float]:
        """`/metrics` of the bot as {"name{labels}": value}."""
        with urllib.request.urlopen(f"{self.bot_http}/metrics", timeout=5) as response:
            text = response.read().decode()
        samples = {}
        for line in text.splitlines():
            match = _METRIC_LINE.match(line)
            if match and not line.startswith("#"):
                samples[match.group(1)] = float(match.group(2))
        return samples

    def wait_bot_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.bot_http}/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise AssertionError(f"the bot container is not ready after {timeout} s:\n{self.logs('bot')}")

    def logs(self, *services: str) -> str:
        return self.compose("logs", "--no-color", "--tail", "80", *services)[-6000:]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """`up --wait` through testcontainers' DockerCompose after building the images; `down --volumes` at the end."""
    require_compose()
    build_seconds = build_fullstack_images()
    print(f"fullstack images built (or up to date) in {build_seconds:.1f} s")
    from tests.e2e.harness.images import testcontainers_environment

    testcontainers_environment()
    from testcontainers.compose import DockerCompose

    project = f"surfaces-e2e-{uuid.uuid4().hex[:8]}"
    secret = uuid.uuid4().hex
    synapse_port, bot_port = free_port(), free_port()
    overrides = {
        "COMPOSE_PROJECT_NAME": project,
        "SYNAPSE_PORT": str(synapse_port),
        "BOT_HTTP_PORT": str(bot_port),
        "SYNAPSE_REGISTRATION_SHARED_SECRET": secret,
    }
    env = {**compose_env(), **overrides}
    compose = DockerCompose(FULLSTACK_COMPOSE.parent, compose_file_name=FULLSTACK_COMPOSE.name, wait=True)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        started = time.monotonic()
        try:
            compose.start()
        except subprocess.CalledProcessError as error:
            logs = subprocess.run(
                ["docker", "compose", "-f", str(FULLSTACK_COMPOSE), "logs", "--no-color", "--tail", "60"],
                env=env,
                capture_output=True,
                text=True,
            ).stdout
            compose.stop()
            raise AssertionError(f"compose up failed: {error.stderr!r}\n{logs}") from None
        print(f"fullstack up (all services healthy) in {time.monotonic() - started:.1f} s")
        running = Stack(project, f"http://127.0.0.1:{synapse_port}", f"http://127.0.0.1:{bot_port}", secret, env)
        try:
            running.wait_bot_ready()
            yield running
        finally:
            started = time.monotonic()
            compose.stop(down=True)
            print(f"fullstack down --volumes in {time.monotonic() - started:.1f} s")
