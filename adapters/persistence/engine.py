"""Engine and session factory construction; nothing is created at import time."""

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from adapters.persistence.inline_sqlite import inline_connector

# WAL lets readers proceed while one task writes; NORMAL is durable enough under WAL
# (a power cut may lose the last commits, never corrupt the file).
SQLITE_PRAGMAS: tuple[tuple[str, str], ...] = (
    ("journal_mode", "WAL"),
    ("synchronous", "NORMAL"),
    ("foreign_keys", "ON"),
)
# How long a statement waits for another connection's lock before "database is locked" (SQLite's
# busy_timeout, kept by the inline driver without blocking the event loop).
SQLITE_BUSY_TIMEOUT_S = 5.0


def default_sqlite_url(data_dir: Path) -> str:
    """The database used when no URL is configured: a file in the bot's data directory."""
    return f"sqlite+aiosqlite:///{(data_dir / 'surfaces.db').resolve()}"


def make_engine(url: str) -> AsyncEngine:
    """An async engine for any SQLAlchemy async URL, with SQLite tuned for a long-running bot."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pool_pre_ping: a server restart must not leave the bot holding dead connections. It costs a round trip
        # per checkout (8 % of an appservice replica's CPU in a burst, py-spy), kept for what it saves: a cut
        # under a unit of work is retried (is_connection_lost), but the first request after a restart would
        # otherwise fail, and a failed transaction makes Synapse back off from the appservice for seconds.
        return create_async_engine(url, pool_pre_ping=True)
    _ensure_sqlite_directory(parsed.database)
    # SQLite on the event loop's thread instead of aiosqlite's worker threads: see inline_sqlite.
    connect = inline_connector(parsed.database or ":memory:", SQLITE_BUSY_TIMEOUT_S)
    engine = create_async_engine(url, async_creator=connect)
    event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    return engine


def is_connection_lost(error: BaseException) -> bool:
    """The database connection broke under a statement (a server restart, a failover, a proxy cutting idle
    connections): SQLAlchemy has let the connection go, so the same work tried again gets a new one. Nothing of
    the broken transaction was committed."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: reading an attribute after commit must not trigger an
    # implicit (and, under asyncio, impossible) lazy load.
    return async_sessionmaker(engine, expire_on_commit=False)


def _ensure_sqlite_directory(database: str | None) -> None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for name, value in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {name}={value}")
    finally:
        cursor.close()
