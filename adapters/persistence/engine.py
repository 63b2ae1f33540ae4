"""Engine and session factory construction; nothing is created at import time."""

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
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
# Connections kept open (and more made under load, closed again when returned). SQLAlchemy's default of 5 was
# below a burst's concurrent units of work: each one over it was a new connection (TCP, authentication, type
# introspection, every statement prepared again), closed when returned.
POOL_SIZE = 20
POOL_OVERFLOW = 10
# A pooled PostgreSQL connection idle longer than this is pinged before it is handed out (see `_ping_when_idle`).
PING_IDLE_AFTER_S = 1.0


def default_sqlite_url(data_dir: Path) -> str:
    """The database used when no URL is configured: a file in the bot's data directory."""
    return f"sqlite+aiosqlite:///{(data_dir / 'surfaces.db').resolve()}"


def make_engine(url: str, ping_idle_after_s: float = PING_IDLE_AFTER_S) -> AsyncEngine:
    """An async engine for any SQLAlchemy async URL, with SQLite tuned for a long-running bot."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_async_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
        _ping_when_idle(engine, ping_idle_after_s)
        return engine
    _ensure_sqlite_directory(parsed.database)
    # SQLite on the event loop's thread instead of aiosqlite's worker threads: see inline_sqlite.
    connect = inline_connector(parsed.database or ":memory:", SQLITE_BUSY_TIMEOUT_S)
    engine = create_async_engine(url, async_creator=connect)
    event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_after_s: float) -> None:
    """A server restart must not leave the bot holding dead connections: the first transaction after it would
    fail, and a failed appservice transaction makes Synapse back off for seconds. So a connection that sat in the
    pool longer than `idle_after_s` (time enough for a restart to pass unnoticed) is pinged before it is handed
    out; a dead one is replaced (`DisconnectionError`: the pool connects anew).

    SQLAlchemy's `pool_pre_ping` pings every checkout, and its asyncpg ping is BEGIN, a statement and ROLLBACK:
    three round trips before each of a message's units of work, 8 % of an appservice replica's CPU, and half the
    transactions PostgreSQL saw in a burst. A connection in steady use is not pinged. Should the server go away
    under it, the statement fails as a lost connection, SQLAlchemy drops the whole pool, and the caller tries
    again (`is_connection_lost`)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _handed_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < idle_after_s:
            return  # new, or in steady use
        try:
            dbapi_connection.ping()  # the dialect's ping: rare now, so its three round trips no longer matter
        except Exception as error:
            raise DisconnectionError(f"pooled connection found dead: {type(error).__name__}") from error


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
