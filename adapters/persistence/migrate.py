"""Schema migrations, run programmatically: `surfaces migrate` and start-up call
`upgrade_database`; no alembic.ini is needed.

Alembic is imported only when there is something to migrate. Every start calls `upgrade_database`,
and nearly always the database is already at the newest revision: that is checked with one query
against the head read from the scripts' own `revision`/`down_revision` lines, so a running bot does
not keep alembic and mako resident (about 7 MB) for a no-op (docs/decisions.md).
"""

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import Connection, inspect, text

from adapters.persistence.engine import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
# Alembic's default; env.py does not configure another one.
VERSION_TABLE: Final = "alembic_version"
# Any fixed number: the advisory lock that serialises migrations of replicas sharing one PostgreSQL database.
MIGRATION_LOCK: Final = 0x7375726661636573


def alembic_config(url: str | None = None) -> "Config":
    """Alembic configuration for this package; give `url` for commands that open their own
    connection (`alembic.command.revision(alembic_config(url), autogenerate=True)`)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser treats "%" as interpolation; a password may contain one.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade_database(url: str) -> None:
    """Brings the database at `url` (any async SQLAlchemy URL) to the newest schema.
    Idempotent: an up-to-date database is left as it is."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to_head)
    finally:
        await engine.dispose()


def script_heads(versions_dir: Path = MIGRATIONS_DIR / "versions") -> frozenset[str]:
    """The head revisions of the migration scripts: those no other script names as its `down_revision`.

    Read from the scripts' source without importing them (they import alembic); the migrations tests
    check that this agrees with alembic's own `ScriptDirectory.get_heads()`.
    """
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions_dir.glob("*.py"):
        values = _revision_lines(path)
        revisions.update(_names(values.get("revision")))
        revised.update(_names(values.get("down_revision")))
    return frozenset(revisions - revised)


def current_revisions(connection: Connection) -> frozenset[str]:
    """The revisions alembic recorded in the database; empty for a database never migrated."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _upgrade_to_head(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Appservice replicas start together on one database: the first migrates, the others wait here (for the
        # length of this transaction only) and then find it at head.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    heads = script_heads()
    if heads and current_revisions(connection) == heads:
        return  # the usual start: nothing to do, and alembic is never imported
    from alembic import command

    config = alembic_config()
    # env.py picks the connection up from here instead of opening its own.
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _revision_lines(path: Path) -> dict[str, object]:
    """The literal values of a script's top-level `revision` and `down_revision` assignments."""
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(node.value)
    return values


def _names(value: object) -> list[str]:
    """None, one revision, or several (a merge revision revises a tuple of them)."""
    if isinstance(value, str):
        return [value]
    return [name for name in value if isinstance(name, str)] if isinstance(value, tuple | list) else []
