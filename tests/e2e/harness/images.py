"""Docker for the e2e tests: is an engine reachable, which base image to build on, and building our images."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.e2e.harness.bot_process import REPO_ROOT

# Made by scripts/prepare-docker.sh where no registry is reachable; otherwise the Dockerfiles' default.
LOCAL_BASE_IMAGE = "local/bookworm-py:base"
FULLSTACK_COMPOSE = REPO_ROOT / "deploy" / "docker-compose.fullstack.yml"
PROD_COMPOSE = REPO_ROOT / "deploy" / "docker-compose.prod.yml"
SCALE_COMPOSE = REPO_ROOT / "deploy" / "docker-compose.scale.yml"


def testcontainers_environment() -> None:
    """testcontainers reads these at import: Ryuk cannot be pulled here, and /.dockerenv misleads it."""
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")


def docker_problem() -> str | None:
    """None when a Docker engine answers; otherwise why not."""
    if shutil.which("docker") is None:
        return "no docker client on PATH (scripts/prepare-docker.sh installs one)"
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 20 s"
    if result.returncode != 0:
        return f"no Docker engine reachable: {result.stderr.strip()[-300:]}"
    return None


def compose_problem() -> str | None:
    """None when Docker and its Compose v2 plugin are both there."""
    problem = docker_problem()
    if problem is not None:
        return problem
    result = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=20)
    return None if result.returncode == 0 else "no Compose v2 plugin (scripts/prepare-docker.sh installs it)"


def base_image() -> str | None:
    """BASE_IMAGE from the environment, else the local base image when present, else the Dockerfiles' default."""
    if os.environ.get("BASE_IMAGE"):
        return os.environ["BASE_IMAGE"]
    result = subprocess.run(["docker", "image", "inspect", LOCAL_BASE_IMAGE], capture_output=True, timeout=20)
    return LOCAL_BASE_IMAGE if result.returncode == 0 else None


def compose_env() -> dict[str, str]:
    """The environment for `docker compose` on our files: BASE_IMAGE filled in when it has to be."""
    env = dict(os.environ)
    base = base_image()
    if base is not None:
        env["BASE_IMAGE"] = base
    return env


def build_fullstack_images(*services: str, timeout: float = 900) -> float:
    """`docker compose build` of the fullstack stack's images (all, or `services`); seconds taken.

    One builder for every image (the container homeserver of the e2e suite uses the stack's Synapse
    image), so the layer cache is shared and a second build of unchanged sources costs a second or two.
    """
    return build_compose_images(FULLSTACK_COMPOSE, *services, timeout=timeout)


def build_compose_images(compose_file: Path, *services: str, timeout: float = 900) -> float:
    """`docker compose build` of the images of `compose_file` (all, or `services`); seconds taken."""
    started = time.monotonic()
    command = ["docker", "compose", "-f", str(compose_file), "build", *services]
    result = subprocess.run(command, env=compose_env(), capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.monotonic() - started
