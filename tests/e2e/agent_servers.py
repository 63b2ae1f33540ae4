"""Real agent servers for e2e tests, each a process of its own on a free loopback port.

- `reference_agent(...)`: the reference platform agent, started as operators start it (the `surfaces-agent`
  console script, configured by `AGENT_*` variables). It can be stopped and started again on the same port,
  which is how a test makes the platform unreachable and brings it back.
- `openai_server(...)`: the OpenAI-compatible test server (`python -m tests.servers.openai_compatible`),
  requiring an API key so a test also proves the bot sends the key named by `api_key_env`.

`write_registry` writes an agents YAML naming both, for `SURFACES_AGENTS_FILE`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from bootstrap.homeserver import die_with_parent_hook, free_port
from tests.e2e.harness import REPO_ROOT

# The console script installed next to the interpreter running the tests (the project's venv).
SURFACES_AGENT = Path(sys.executable).with_name("surfaces-agent")
OPENAI_MODEL = "test-model"  # what tests/servers/openai_compatible.py calls its model


class ServerProcess:
    """One loopback server process; `start()` may be called again after `stop()`, on the same port."""

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
        self.name = name
        self.command = list(command)
        self.port = port
        self.log_path = log_path
        self.env = dict(env or {})
        self._probe = f"http://127.0.0.1:{port}{probe_path}"
        self._probe_headers = dict(probe_headers or {})
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30) -> None:
        """Starts the process and waits until its probe URL answers 200."""
        assert not self.is_running(), f"{self.name} already running"
        self._starts += 1
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._log.write(f"\n===== harness: start #{self._starts} of {self.name} =====\n".encode())
        self._log.flush()
        self._proc = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            env=self._child_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent_hook(),
        )
        atexit.register(self._kill_at_exit)
        self._wait_ready(timeout)

    def _child_env(self) -> dict[str, str]:
        # The test's settings only: an AGENT_* in the developer's shell (an upstream URL) must not leak in.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_")}
        return {**inherited, "PYTHONUNBUFFERED": "1", **self.env}

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM and wait for the process to exit (killed if it overstays)."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._release()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise AssertionError(f"{self.name} exited at start:\n{self.log_tail()}")
            if self._answers_200():
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready after {timeout} s:\n{self.log_tail()}")

    def _answers_200(self) -> bool:
        request = urllib.request.Request(self._probe, headers=self._probe_headers)
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return int(response.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    def _release(self) -> None:
        atexit.unregister(self._kill_at_exit)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _kill_at_exit(self) -> None:
        if self.is_running() and self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)


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
