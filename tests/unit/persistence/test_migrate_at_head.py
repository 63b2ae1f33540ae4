"""A database already at the newest revision is recognised without alembic, which then stays unimported."""

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from adapters.persistence.engine import default_sqlite_url, make_engine
from adapters.persistence.migrate import alembic_config, current_revisions, script_heads, upgrade_database
from tests.e2e.harness import REPO_ROOT

UPGRADE_AND_REPORT_ALEMBIC = (
    "import asyncio, sys\n"
    "from adapters.persistence.migrate import upgrade_database\n"
    "asyncio.run(upgrade_database(sys.argv[1]))\n"
    "print('alembic' in sys.modules)\n"
)


def alembic_imported_by_upgrading(url: str) -> bool:
    result = subprocess.run(
        [sys.executable, "-c", UPGRADE_AND_REPORT_ALEMBIC, url],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip() == "True"


def test_the_heads_read_from_the_scripts_are_alembics() -> None:
    assert script_heads() == frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_a_merge_revision_is_the_only_head(tmp_path: Path) -> None:
    scripts = {
        "a.py": 'revision = "a"\ndown_revision = None\n',
        "b.py": 'revision: str = "b"\ndown_revision: str | None = "a"\n',
        "c.py": 'revision = "c"\ndown_revision = "a"\n',
        "m.py": 'import sqlalchemy as sa\nrevision = "m"\ndown_revision = ("b", "c")\nTYPE = sa.String(5)\n',
    }
    for name, source in scripts.items():
        (tmp_path / name).write_text(source)
    assert script_heads(tmp_path) == {"m"}


async def test_a_migrated_database_records_exactly_the_heads(database_url: str) -> None:
    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(current_revisions) == script_heads()
    finally:
        await engine.dispose()


async def test_a_database_never_migrated_has_no_revision(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(current_revisions) == frozenset()
    finally:
        await engine.dispose()


def test_alembic_is_imported_only_when_there_is_something_to_migrate(tmp_path: Path) -> None:
    url = default_sqlite_url(tmp_path)
    assert alembic_imported_by_upgrading(url), "a new database is migrated by alembic"
    assert not alembic_imported_by_upgrading(url), "a database at head needs no alembic"
