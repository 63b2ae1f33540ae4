"""Real agent servers for e2e tests, each a process of its own on a free loopback port.

- `reference_agent(...)`: the reference platform agent, started as operators start it (the `surfaces-agent`
  console script, configured by `AGENT_*` variables). It can be stopped and started again on the same port,
  which is how a test makes the platform unreachable and brings it back.
- `openai_server(...)`: the OpenAI-compatible test server (`python -m tests.servers.openai_compatible`),
  requiring an API key so a test also proves the bot sends the key named by `api_key_env`.

`write_registry` writes an agents YAML naming both, for `SURFACES_AGENTS_FILE`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bootstrap.homeserver import free_port
from tests.e2e.harness.child_process import ChildProcess, answers_200

# The console script installed next to the interpreter running the tests (the project's venv).
SURFACES_AGENT = Path(sys.executable).with_name("surfaces-agent")
OPENAI_MODEL = "test-model"  # what tests/servers/openai_compatible.py calls its model


class ServerProcess(ChildProcess):
    """One loopback server process; `start()` may be called again after `stop()`, on the same port.
    An AGENT_* in the developer's shell (an upstream URL) never reaches it."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        port: int,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        probe_path: str = "/health",
        probe_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(name, command, log_path, env or {}, isolated_prefix="AGENT_")
        self.port = port
        self._probe = f"http://127.0.0.1:{port}{probe_path}"
        self._probe_headers = dict(probe_headers or {})

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        """Starts the process and waits until its probe URL answers 200."""
        self.spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise AssertionError(f"{self.name} exited at start:\n{self.log_tail()}")
            if answers_200(self._probe, self._probe_headers):
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready after {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM and wait for the process to exit (killed if it overstays)."""
        self.terminate(timeout)


def reference_agent(workspace: Path, log_dir: Path, chunk_delay: float) -> ServerProcess:
    """The reference agent (not started), sharing `workspace` with the bot."""
    port = free_port()
    env = {
        "AGENT_HOST": "127.0.0.1",
        "AGENT_PORT": str(port),
        "AGENT_WORKSPACE_DIR": str(workspace),
        "AGENT_CHUNK_DELAY": str(chunk_delay),
        "AGENT_LOG_FORMAT": "console",
    }
    return ServerProcess("reference agent", [str(SURFACES_AGENT)], port, log_dir / "reference-agent.log", env)


def openai_server(api_key: str, log_dir: Path) -> ServerProcess:
    """The OpenAI-compatible test server (not started), accepting only `Authorization: Bearer <api_key>`."""
    port = free_port()
    command = [sys.executable, "-m", "tests.servers.openai_compatible", "--port", str(port), "--api-key", api_key]
    return ServerProcess(
        "openai-compatible server",
        command,
        port,
        log_dir / "openai-server.log",
        probe_path="/v1/models",
        probe_headers={"Authorization": f"Bearer {api_key}"},
    )


def write_registry(path: Path, *, http_id: str, http_url: str, openai_id: str, openai_url: str, key_env: str) -> Path:
    """An agents YAML: the http agent (the default) and the openai agent, whose key is read from `key_env`."""
    path.write_text(
        f"""\
default: {http_id}
agents:
  - id: {http_id}
    adapter: http
    description: The reference platform agent
    settings:
      base_url: {http_url}
  - id: {openai_id}
    adapter: openai
    description: The local OpenAI-compatible test server
    settings:
      base_url: {openai_url}/v1
      model: {OPENAI_MODEL}
      api_key_env: {key_env}
""",
        encoding="utf-8",
    )
    return path
