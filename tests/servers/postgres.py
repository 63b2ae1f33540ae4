"""A throwaway PostgreSQL cluster under a temporary directory (initdb, pg_ctl): the persistence tests' backend,
and the bot's database in the appservice e2e test. The binaries come from scripts/prepare-machine.sh."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

SUPERUSER = "surfaces"
# The cluster is ours alone, so its default database serves as the test database.
TEST_DATABASE = "postgres"


@dataclass(frozen=True, kw_only=True)
class PostgresServer:
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{TEST_DATABASE}"

    async def empty_database(self) -> str:
        # Recreating the schema takes milliseconds; CREATE DATABASE per test took ~0.3 s.
        admin = create_async_engine(self.url, poolclass=NullPool)
        try:
            async with admin.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        finally:
            await admin.dispose()
        return self.url


def _postgres_bin_dir() -> Path | None:
    versioned = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in versioned:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    return Path(initdb).resolve().parent if initdb and pg_ctl else None


def _unprivileged_user(owned: Path) -> pwd.struct_passwd | None:
    """initdb refuses to run as root; as root, hand the cluster to an ordinary account."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            continue
        for path in (owned, *owned.rglob("*")):
            os.chown(path, account.pw_uid, account.pw_gid)
        return account
    pytest.fail("running as root and no 'postgres' or 'nobody' account to run PostgreSQL as")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run(command: list[str | Path], base: Path, account: pwd.struct_passwd | None) -> None:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=base,
        capture_output=True,
        text=True,
        check=False,
        user=None if account is None else account.pw_uid,
        group=None if account is None else account.pw_gid,
        extra_groups=None if account is None else [],
    )
    if result.returncode != 0:
        log = base / "server.log"
        server_log = log.read_text() if log.exists() else ""
        pytest.fail(f"{command[0]} failed:\n{result.stdout}{result.stderr}{server_log}")


def _cluster(bin_dir: Path, base: Path) -> Iterator[PostgresServer]:
    (base / "sockets").mkdir()
    account = _unprivileged_user(base)
    data, port = base / "data", _free_port()
    initdb: list[str | Path] = [bin_dir / "initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "--no-sync"]
    _run([*initdb, "--encoding=UTF8", "--locale=C"], base, account)
    # Durability is pointless for a throwaway cluster; turning it off makes commits cheap.
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {base / 'sockets'} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    pg_ctl: list[str | Path] = [bin_dir / "pg_ctl", "-D", data, "-w", "-t", "60"]
    _run([*pg_ctl, "-l", base / "server.log", "-o", options, "start"], base, account)
    try:
        yield PostgresServer(port=port)
    finally:
        _run([*pg_ctl, "-m", "immediate", "stop"], base, account)


def postgres_cluster() -> Iterator[PostgresServer]:
    """Starts a cluster, yields it, stops and removes it; a failure (no binaries) fails the test."""
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        # A failure, not a skip: the contract must hold on both backends (`make test` installs PostgreSQL).
        pytest.fail("PostgreSQL binaries (initdb, pg_ctl) not found; run scripts/prepare-machine.sh", pytrace=False)
    base = Path(tempfile.mkdtemp(prefix="surfaces-pg-"))
    try:
        yield from _cluster(bin_dir, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
