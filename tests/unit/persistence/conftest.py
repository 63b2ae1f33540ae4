"""Database backends for the persistence tests: a SQLite file per test, and a throwaway
PostgreSQL cluster per session whose schema is emptied for each test."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from ports.unit_of_work import UnitOfWorkFactory
from tests.servers.postgres import PostgresServer, postgres_cluster
from tests.unit.fakes.unit_of_work import FakeUnitOfWorkFactory


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from postgres_cluster()


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


@pytest_asyncio.fixture
async def postgres_url(empty_database: EmptyDatabase) -> str:
    """An empty, migrated PostgreSQL database: appservice mode's leases and housekeeping run on PostgreSQL only."""
    url = await empty_database("postgres")
    await upgrade_database(url)
    return url


@pytest_asyncio.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    made = make_engine(postgres_url)
    yield made
    await made.dispose()


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
