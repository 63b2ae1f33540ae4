"""The bot as a real process, started the way operators start it: `uv run surfaces run`."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from bootstrap.homeserver import die_with_parent_hook

REPO_ROOT = Path(__file__).resolve().parents[3]
BOT_COMMAND = ("uv", "run", "--no-sync", "surfaces", "run")
_DEFAULT_HTTP_PORT = "8080"  # SPEC §7 default of SURFACES_HTTP_PORT


class BotProcess:
    """One bot process; `start()` may be called again after `stop()` or `kill()` (restart tests)."""

    def __init__(self, env: Mapping[str, str], log_path: Path, command: Sequence[str] = BOT_COMMAND) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.command = list(command)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._starts = 0

    @property
    def http_port(self) -> int:
        return int(self.env.get("SURFACES_HTTP_PORT", _DEFAULT_HTTP_PORT))

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        assert not self.is_running(), "bot already running"
        self._starts += 1
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._log.write(f"\n===== harness: start #{self._starts} =====\n".encode())
        self._log.flush()
        self._proc = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            env=self._child_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Own process group, so kill() reaches the bot behind `uv run` as well as uv itself.
            start_new_session=True,
            preexec_fn=die_with_parent_hook(),  # uv gets SIGTERM if pytest dies, and forwards it
        )
        atexit.register(self._kill_at_exit)

    def wait_ready(self, timeout: float = 60) -> None:
        """Poll /ready until 200; fail at once with the log tail if the process exits."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.http_port}/ready"
        while time.monotonic() < deadline:
            if not self.is_running():
                raise AssertionError(f"bot exited with {self.returncode}:\n{self.log_tail()}")
            if _answers_200(url):
                return
            time.sleep(0.2)
        raise AssertionError(f"bot not ready after {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (uv forwards it to the bot) and wait; a bot that overstays is killed and fails."""
        proc = self._proc
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"bot ignored SIGTERM for {timeout} s:\n{self.log_tail()}") from None
        self._release()
        return int(proc.returncode)

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
        # The test's settings only: a SURFACES_* in the developer's shell must not leak in.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SURFACES_")}
        return {**inherited, "PYTHONUNBUFFERED": "1", **self.env}

    def _release(self) -> None:
        atexit.unregister(self._kill_at_exit)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _kill_at_exit(self) -> None:
        if self.is_running():
            self.kill()


def _answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False
