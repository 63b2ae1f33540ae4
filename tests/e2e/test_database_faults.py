"""A corrupt or locked database stops the bot with a clear error and exit code 4; it is never replaced."""

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from bootstrap.errors import EXIT_DATABASE
from bootstrap.homeserver import free_port
from tests.e2e.harness import REPO_ROOT


def run_bot(data_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SURFACES_")}
    env.update(
        SURFACES_HOMESERVER_URL="http://127.0.0.1:9",  # never reached: the database check comes first
        SURFACES_USER_ID="@bot:example.org",
        SURFACES_PASSWORD="unused-password",
        SURFACES_DATA_DIR=str(data_dir),
        SURFACES_HTTP_PORT=str(free_port()),
    )
    return subprocess.run(
        ["uv", "run", "--no-sync", "surfaces", "run"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_corrupt_database_stops_the_bot_and_is_left_as_it_was(tmp_path: Path) -> None:
    database = tmp_path / "surfaces.db"
    garbage = b"not a database " * 100
    database.write_bytes(garbage)

    result = run_bot(tmp_path)

    assert result.returncode == EXIT_DATABASE, result.stderr[-2000:]
    assert "database cannot be opened" in result.stderr and "file is not a database" in result.stderr
    assert database.read_bytes() == garbage, "the corrupt file must not be replaced by a new database"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["surfaces.db"]


def test_a_locked_database_stops_the_bot_with_a_clear_error(tmp_path: Path) -> None:
    migrated = subprocess.run(
        [sys.executable, "-c", "import asyncio, sys; from adapters.persistence.migrate import upgrade_database;"
         f" asyncio.run(upgrade_database('sqlite+aiosqlite:///{tmp_path / 'surfaces.db'}'))"],
        cwd=REPO_ROOT, check=True,
    )  # fmt: skip
    assert migrated.returncode == 0
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        connection = sqlite3.connect(tmp_path / "surfaces.db", isolation_level=None)
        connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        connection.execute("BEGIN EXCLUSIVE")
        connection.execute("UPDATE sync_state SET value = value")
        locked.set()
        release.wait(60)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        result = run_bot(tmp_path)
    finally:
        release.set()
        holder.join()

    assert result.returncode == EXIT_DATABASE, result.stderr[-2000:]
    assert "database is locked" in result.stderr
