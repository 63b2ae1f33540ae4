"""A child process for the e2e suite: started in a group of its own with its output appended to a log file,
killed with the test session at the latest. The bot and the agent servers are both built on it."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from bootstrap.homeserver import die_with_parent_hook

REPO_ROOT = Path(__file__).resolve().parents[3]


class ChildProcess:
    """`start()` may be called again after `stop()` or `kill()`; each start is marked in the log.

    `isolated_prefix`: variables with this prefix in the developer's shell do not reach the child, so
    only the test's own settings (`env`) configure it.
    """

    def __init__(
        self, name: str, command: Sequence[str], log_path: Path, env: Mapping[str, str], isolated_prefix: str
    ) -> None:
        self.name = name
        self.command = list(command)
        self.log_path = log_path
        self.env = dict(env)
        self._isolated_prefix = isolated_prefix
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._starts = 0

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def spawn(self) -> None:
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
            # Own process group, so kill() reaches the program behind `uv run` as well as uv itself.
            start_new_session=True,
            preexec_fn=die_with_parent_hook(),  # SIGTERM when pytest dies (uv forwards it)
        )
        atexit.register(self._kill_at_exit)

    def terminate(self, timeout: float) -> bool:
        """SIGTERM and wait; False when it overstayed (it is then killed)."""
        proc = self._proc
        if proc is None:
            return True
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return False
        self._release()
        return True

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, with no chance to clean up."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # the group may be gone already
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        self._release()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def _child_env(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(self._isolated_prefix)}
        return {**inherited, "PYTHONUNBUFFERED": "1", **self.env}

    def _release(self) -> None:
        atexit.unregister(self._kill_at_exit)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _kill_at_exit(self) -> None:
        if self.is_running():
            self.kill()


def answers_200(url: str, headers: Mapping[str, str] | None = None) -> bool:
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False
