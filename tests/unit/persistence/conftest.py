"""Database backends for the persistence tests: a SQLite file per test, and a throwaway
PostgreSQL cluster per session whose schema is emptied for each test."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from ports.unit_of_work import UnitOfWorkFactory
from tests.unit.fakes.unit_of_work import FakeUnitOfWorkFactory

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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        # A failure, not a skip: the contract must hold on both backends (`make test` installs PostgreSQL).
        pytest.fail("PostgreSQL binaries (initdb, pg_ctl) not found; run scripts/prepare-machine.sh", pytrace=False)
    base = Path(tempfile.mkdtemp(prefix="surfaces-pg-"))
    try:
        yield from _cluster(bin_dir, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


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


EmptyDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> EmptyDatabase:
    """Makes the URL of an empty database on a backend ("sqlite" or "postgres") for one test;
    the PostgreSQL cluster is started only when a test asks for it."""

    async def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / 'surfaces.db'}"
        server: PostgresServer = request.getfixturevalue("postgres_server")
        return await server.empty_database()

    return make


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, empty_database: EmptyDatabase) -> str:
    """An empty database on each real backend."""
    return await empty_database(request.param)


@pytest_asyncio.fixture(params=["fake", "sqlite", "postgres"])
async def uow_factory(
    request: pytest.FixtureRequest, empty_database: EmptyDatabase
) -> AsyncIterator[UnitOfWorkFactory]:
    """Every `UnitOfWork` implementation, over an empty migrated store: the contract suite
    runs once per implementation."""
    if request.param == "fake":
        yield FakeUnitOfWorkFactory()
        return
    url = await empty_database(request.param)
    await upgrade_database(url)
    engine = make_engine(url)
    try:
        yield SqlAlchemyUnitOfWorkFactory(make_session_factory(engine))
    finally:
        await engine.dispose()
