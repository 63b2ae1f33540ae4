"""`surfaces-agent` starts from the environment, serves /health, logs JSON and stops cleanly on SIGTERM."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _wait_healthy(url: str, process: subprocess.Popen[str], deadline: float) -> httpx.Response:
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            return httpx.get(f"{url}/health", timeout=1)
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail("surfaces-agent did not become healthy")


def test_surfaces_agent_serves_health_and_stops_on_sigterm(tmp_path: Path, unused_port: int) -> None:
    command = shutil.which("surfaces-agent") or f"{Path(sys.executable).parent}/surfaces-agent"
    env = {**os.environ, "AGENT_PORT": str(unused_port), "AGENT_WORKSPACE_DIR": str(tmp_path / "ws")}
    process = subprocess.Popen([command], env=env, stderr=subprocess.PIPE, text=True)
    try:
        response = _wait_healthy(f"http://127.0.0.1:{unused_port}", process, time.monotonic() + 20)
        assert response.json()["status"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    first = json.loads(stderr.splitlines()[0])
    assert (first["event"], first["port"], first["mode"]) == ("agent_starting", unused_port, "echo")
    assert (tmp_path / "ws").is_dir()


def test_invalid_settings_stop_start_up_naming_the_variable(tmp_path: Path) -> None:
    command = shutil.which("surfaces-agent") or f"{Path(sys.executable).parent}/surfaces-agent"
    env = {**os.environ, "AGENT_UPSTREAM_URL": "http://127.0.0.1:1/v1", "AGENT_PORT": "not-a-port"}
    env.pop("AGENT_UPSTREAM_MODEL", None)
    result = subprocess.run([command], env=env, capture_output=True, text=True, timeout=20)
    assert result.returncode != 0
    assert "port" in result.stderr
