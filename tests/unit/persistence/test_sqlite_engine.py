"""The SQLite engine is tuned on every connection, and migrating is safe to repeat."""

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.engine import default_sqlite_url, make_engine, make_session_factory
from adapters.persistence.migrate import alembic_config, upgrade_database
from adapters.persistence.tables import Base

# busy_timeout 0: SQLite never sleeps on the event loop; the inline driver waits for locks (test_inline_sqlite).
EXPECTED_PRAGMAS = {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 0}


async def _pragmas(connection: AsyncConnection) -> dict[str, object]:
    return {name: (await connection.execute(text(f"PRAGMA {name}"))).scalar_one() for name in EXPECTED_PRAGMAS}


async def test_every_sqlite_connection_gets_the_tuned_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'surfaces.db'}")
    try:
        # Two connections open at once: the second is a new DBAPI connection, not a reused one.
        async with engine.connect() as first, engine.connect() as second:
            assert await _pragmas(first) == EXPECTED_PRAGMAS
            assert await _pragmas(second) == EXPECTED_PRAGMAS
    finally:
        await engine.dispose()


async def test_engine_creates_the_directory_of_the_database_file(tmp_path: Path) -> None:
    url = default_sqlite_url(tmp_path / "data" / "nested")
    engine = make_engine(url)
    try:
        assert (tmp_path / "data" / "nested").is_dir()
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        assert (tmp_path / "data" / "nested" / "surfaces.db").is_file()
    finally:
        await engine.dispose()


async def test_sessions_do_not_expire_objects_on_commit(tmp_path: Path) -> None:
    engine = make_engine(default_sqlite_url(tmp_path))
    try:
        assert make_session_factory(engine).kw["expire_on_commit"] is False
    finally:
        await engine.dispose()


async def test_upgrading_twice_is_harmless_and_keeps_data(tmp_path: Path) -> None:
    url = default_sqlite_url(tmp_path / "fresh")
    await upgrade_database(url)
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO sync_state (key, value) VALUES ('next_batch', 's1')"))
        await upgrade_database(url)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            token = (await connection.execute(text("SELECT value FROM sync_state"))).scalar_one()
            version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert tables == {"alembic_version", *Base.metadata.tables}
        assert (token, version) == ("s1", head)
    finally:
        await engine.dispose()
