"""The bot as a real process, started the way operators start it: `uv run surfaces run`."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.e2e.harness.child_process import REPO_ROOT, ChildProcess, answers_200

__all__ = ["BOT_COMMAND", "REPO_ROOT", "BotProcess"]

BOT_COMMAND = ("uv", "run", "--no-sync", "surfaces", "run")
_DEFAULT_HTTP_PORT = "8080"  # SPEC §7 default of SURFACES_HTTP_PORT


class BotProcess(ChildProcess):
    """One bot process; `start()` may be called again after `stop()` or `kill()` (restart tests).
    A SURFACES_* in the developer's shell never reaches it: only the test's settings configure it."""

    def __init__(self, env: Mapping[str, str], log_path: Path, command: Sequence[str] = BOT_COMMAND) -> None:
        super().__init__("bot", command, log_path, env, isolated_prefix="SURFACES_")

    @property
    def http_port(self) -> int:
        return int(self.env.get("SURFACES_HTTP_PORT", _DEFAULT_HTTP_PORT))

    def start(self) -> None:
        self.spawn()

    def wait_ready(self, timeout: float = 60) -> None:
        """Poll /ready until 200; fail at once with the log tail if the process exits."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.http_port}/ready"
        while time.monotonic() < deadline:
            if not self.is_running():
                raise AssertionError(f"bot exited with {self.returncode}:\n{self.log_tail()}")
            if answers_200(url):
                return
            time.sleep(0.2)
        raise AssertionError(f"bot not ready after {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (uv forwards it to the bot) and wait; a bot that overstays is killed and fails."""
        if not self.terminate(timeout):
            raise AssertionError(f"bot ignored SIGTERM for {timeout} s:\n{self.log_tail()}")
        return self.returncode or 0
