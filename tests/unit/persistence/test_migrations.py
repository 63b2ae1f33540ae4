"""The migrations build exactly the schema the ORM rows describe, on every real backend."""

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import alembic_config, upgrade_database
from adapters.persistence.tables import Base


def _schema_drift(connection: Connection) -> list[Any]:
    drift: list[Any] = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return drift


def _down_and_up_again(connection: Connection) -> set[str]:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")
    emptied = set(inspect(connection).get_table_names()) - {"alembic_version"}
    command.upgrade(config, "head")
    return emptied


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_schema_drift) == []
    finally:
        await engine.dispose()


async def test_initial_migration_downgrades_cleanly(database_url: str) -> None:
    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            assert await connection.run_sync(_down_and_up_again) == set()
            assert await connection.run_sync(_schema_drift) == []
    finally:
        await engine.dispose()
