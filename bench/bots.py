"""The three bots as processes, with the OS accounting the benchmark reads: CPU of the tree, peak RSS."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import aiohttp
import psutil

from bootstrap.homeserver import free_port
from tests.e2e.harness import REPO_ROOT, BotProcess

AGENTS_FILE = REPO_ROOT / "config" / "agents.yaml"
BASELINES = Path(__file__).resolve().parent / "baselines"
SURFACES_KINDS = ("surfaces", "surfaces_e2ee", "surfaces_as", "surfaces_as2")


class Bot(Protocol):
    """What the latency and burst phases need of a bot: one process (BenchBot) or several (ReplicaGroup)."""

    kind: str
    user_id: str

    @property
    def peak_rss_mb(self) -> float: ...

    @property
    def pids(self) -> list[int]: ...

    async def start(self) -> float: ...

    async def stop(self) -> None: ...

    def is_running(self) -> bool: ...

    def sample(self) -> None: ...

    def cpu_seconds(self) -> float: ...


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of the process and all its descendants alive now."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _status_kb(pid: int, field_name: str) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    return 0


def tree_rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """The largest resident memory in the tree (VmRSS now, or VmHWM, the peak so far): the bot's Python process."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    return max((_status_kb(proc.pid, field_name) for proc in procs), default=0) / 1024


def tree_peak_rss_mb(pid: int) -> float:
    """The high-water mark of resident memory (VmHWM) of the bot's Python process: a true peak, not a sample."""
    return tree_rss_mb(pid, "VmHWM")


@dataclass
class BenchBot:
    """One bot process: `kind` is surfaces, surfaces_e2ee (the same bot creating encrypted rooms), nio, mautrix,
    mautrix_ordered, or one replica of surfaces_as / surfaces_as2 (appservice mode, its settings in `extra_env`).
    `peak_rss_mb` is kept up to date by `sample()`."""

    kind: str
    user_id: str
    password: str
    root: Path
    homeserver_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    process: BotProcess = field(init=False)
    peak_rss_mb: float = 0.0
    started_at: float = 0.0
    ready_at: float = 0.0
    # (seconds since process start, current RSS MB) while starting: where in start-up memory peaks.
    rss_during_start: list[tuple[float, float]] = field(default_factory=list)
    # The CPU last read: what a killed process had used, so a burst's CPU difference keeps it.
    _cpu_last: float = 0.0

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.process = BotProcess(self.env(self.homeserver_url), self.root / "bot.log", self.command())

    @property
    def is_surfaces(self) -> bool:
        return self.kind in SURFACES_KINDS

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def command(self) -> list[str]:
        if self.is_surfaces:
            return ["uv", "run", "--no-sync", "surfaces", "run"]
        script = "mautrix_echo.py" if self.kind == "mautrix_ordered" else f"{self.kind}_echo.py"
        return [sys.executable, str(BASELINES / script)]

    def env(self, homeserver_url: str) -> dict[str, str]:
        if self.is_surfaces:
            # Exactly what an operator sets: SURFACES_* only, every feature at its default (all on).
            env = {
                "SURFACES_HOMESERVER_URL": homeserver_url,
                "SURFACES_USER_ID": self.user_id,
                "SURFACES_PASSWORD": self.password,
                "SURFACES_DATA_DIR": str(self.data_dir),
                "SURFACES_WORKSPACE_DIR": str(self.root / "workspace"),
                "SURFACES_AGENTS_FILE": str(AGENTS_FILE),
                "SURFACES_HTTP_PORT": str(free_port()),
                # The per-person flood guard stays on, above what one benchmark user sends (205 messages in
                # well under a minute in the latency phase): refusals would be measured instead of answers.
                "SURFACES_RATE_LIMIT_BURST": "100000",
            }
            if self.kind == "surfaces_e2ee":
                env["SURFACES_ENCRYPTION"] = "true"  # its chat rooms are created encrypted (docs/encryption.md)
            return env | self.extra_env
        return {
            "BENCH_HOMESERVER": homeserver_url,
            "BENCH_USER_ID": self.user_id,
            "BENCH_PASSWORD": self.password,
            "BENCH_READY_FILE": str(self.root / "ready"),
            "BENCH_ORDERED": "1" if self.kind == "mautrix_ordered" else "0",
        }

    def is_running(self) -> bool:
        return self.process.is_running()

    @property
    def pids(self) -> list[int]:
        return [self.pid]

    @property
    def pid(self) -> int:
        proc = self.process._proc  # the harness keeps the Popen private; the OS accounting needs its pid
        assert proc is not None, "bot not started"
        return proc.pid

    def use_homeserver(self, url: str) -> None:
        """Points the next start at another URL (the counting proxy); the kept session stays valid."""
        assert self.is_surfaces, "only the surfaces bot is restarted"
        self.process.env = {**self.process.env, "SURFACES_HOMESERVER_URL": url}

    async def start(self, limit_s: float = 600) -> float:
        """Starts the process and waits until it is ready; returns seconds from process start to ready."""
        (self.root / "ready").unlink(missing_ok=True)
        self.peak_rss_mb = 0.0
        self.rss_during_start = []
        self._cpu_last = 0.0
        self.started_at = time.monotonic()
        self.process.start()
        deadline = self.started_at + limit_s
        async with aiohttp.ClientSession() as session:
            while not await self._is_ready(session):
                if not self.process.is_running():
                    raise RuntimeError(f"{self.kind} bot exited:\n{self.process.log_tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.kind} bot not ready after {limit_s} s:\n{self.process.log_tail()}")
                self.sample()
                now = round(time.monotonic() - self.started_at, 2)
                self.rss_during_start.append((now, round(tree_rss_mb(self.pid), 1)))
                await asyncio.sleep(0.02)
        self.ready_at = time.monotonic()
        self.sample()
        return self.ready_at - self.started_at

    async def _is_ready(self, session: aiohttp.ClientSession) -> bool:
        if not self.is_surfaces:
            return (self.root / "ready").exists()
        try:
            async with session.get(f"http://127.0.0.1:{self.process.http_port}/ready") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    def sample(self) -> None:
        if self.process.is_running():
            self.peak_rss_mb = max(self.peak_rss_mb, tree_peak_rss_mb(self.pid))

    def rss_now_mb(self) -> float:
        return tree_rss_mb(self.pid) if self.process.is_running() else 0.0

    def cpu_seconds(self) -> float:
        """CPU of the process tree; once it has exited, what it had used when last read (see `kill`)."""
        if self.process.is_running():
            self._cpu_last = tree_cpu_seconds(self.pid)
        return self._cpu_last

    async def stop(self) -> None:
        self.sample()
        self.cpu_seconds()
        await asyncio.to_thread(self.process.stop, 60)

    def logged_start_s(self) -> float | None:
        """Seconds from `settings_loaded` to `ready` in the bot's log of its latest start: its own start-up,
        without the interpreter and the imports before it (which a busy machine stretches most)."""
        latest = self.process.log_text().rsplit("===== harness: start", 1)[-1]
        marks: dict[str, float] = {}
        for line in latest.splitlines():
            if '"settings_loaded"' in line or '"ready"' in line:
                try:
                    entry = json.loads(line)
                    marks[entry["event"]] = datetime.fromisoformat(
                        entry["timestamp"].replace("Z", "+00:00")
                    ).timestamp()
                except (ValueError, KeyError, TypeError):
                    continue
        if "settings_loaded" not in marks or "ready" not in marks:
            return None
        return round(marks["ready"] - marks["settings_loaded"], 3)

    def kill(self) -> None:
        """SIGKILL (`kill -9`) of the whole process group: a crash, nothing released."""
        self.sample()
        self.cpu_seconds()
        self.process.kill()

    def delete_database(self) -> None:
        """The SQLite index only: the kept session (token, device) stays, as after a lost volume of data."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            (self.data_dir / f"surfaces.db{suffix}").unlink(missing_ok=True)

    def wipe(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
