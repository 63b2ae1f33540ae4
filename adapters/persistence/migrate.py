"""Schema migrations, run programmatically: `surfaces migrate` and start-up call
`upgrade_database`; no alembic.ini is needed."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from adapters.persistence.engine import make_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration for this package; give `url` for commands that open their own
    connection (`alembic.command.revision(alembic_config(url), autogenerate=True)`)."""
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
            await connection.run_sync(_upgrade_to_head, alembic_config())
    finally:
        await engine.dispose()


def _upgrade_to_head(connection: Connection, config: Config) -> None:
    # env.py picks the connection up from here instead of opening its own.
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
