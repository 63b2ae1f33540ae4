"""SQLite for SQLAlchemy's asyncio engine, run on the event loop's own thread.

aiosqlite runs every call on a worker thread: creating a cursor, executing, fetching and closing are four
hand-offs per statement, each a queue put, a thread wake-up and a wake-up of the event loop. Our statements
are point lookups and single-row writes on a local file that SQLite answers in microseconds (WAL,
`synchronous=NORMAL`: a commit does not wait for the disk), so the hand-offs cost several times the work:
measured with `make bench`, more than half of the bot's CPU per message went to them. This module gives
SQLAlchemy's aiosqlite dialect (through `create_async_engine(async_creator=...)`) a connection with the same
awaitable interface that calls `sqlite3` directly.

The one thing a thread gave us for free is waiting for a lock without stalling everything else. Here SQLite's
own busy handler is off (`busy_timeout=0`, it would sleep on the loop's thread); a statement that finds the
database locked by another connection is retried after an `asyncio.sleep`, so other tasks (the holder of the
lock among them) run meanwhile, until `busy_timeout_s` has passed and "database is locked" is raised as
before. `SQLITE_BUSY_SNAPSHOT` is not retried: a transaction whose snapshot went stale has to start over.
"""

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, TypeVar

T = TypeVar("T")

# Back-off between attempts on a locked database: short at first, so a writer that commits within a
# millisecond or two costs little, capped so a long holder is not polled needlessly.
FIRST_WAIT_S: Final = 0.0005
LONGEST_WAIT_S: Final = 0.05
BUSY_SNAPSHOT: Final = 517  # SQLITE_BUSY_SNAPSHOT: not a lock to wait for


class InlineCursor:
    """The awaitable cursor interface SQLAlchemy's aiosqlite adapter drives, over a `sqlite3.Cursor`."""

    def __init__(self, connection: "InlineConnection") -> None:
        self._connection = connection
        self._cursor = connection.raw.cursor()

    async def __aenter__(self) -> "InlineCursor":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> "InlineCursor":
        await self._connection.when_unlocked(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> "InlineCursor":
        rows = list(parameters)  # a generator would be half consumed by an attempt that found the lock taken
        await self._connection.when_unlocked(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def setinputsizes(self, *sizes: Any) -> None:
        """Nothing to do for SQLite (DB-API optional method)."""

    async def nextset(self) -> None:
        """SQLite returns one result set per statement."""


class InlineConnection:
    """The awaitable connection interface of aiosqlite, over a `sqlite3.Connection` on the loop's thread."""

    def __init__(self, raw: sqlite3.Connection, busy_timeout_s: float) -> None:
        self.raw = raw
        self._busy_timeout_s = busy_timeout_s

    # SQLAlchemy's adapter checks this aiosqlite attribute before commit and rollback.
    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self.raw

    @property
    def isolation_level(self) -> str | None:
        return self.raw.isolation_level

    def cursor(self) -> InlineCursor:
        """Entered (`__aenter__`) by SQLAlchemy before use, as aiosqlite's cursor is."""
        return InlineCursor(self)

    async def commit(self) -> None:
        await self.when_unlocked(self.raw.commit)

    async def rollback(self) -> None:
        self.raw.rollback()

    async def close(self) -> None:
        self.raw.close()

    def stop(self) -> None:
        """Forced close (SQLAlchemy's terminate when a connection is garbage collected)."""
        self.raw.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.raw.create_function(*args, **kwargs)

    async def when_unlocked(self, operation: Callable[[], T]) -> T:
        """Runs `operation`; while another connection holds the lock it needs, waits without blocking the loop."""
        deadline = time.monotonic() + self._busy_timeout_s
        wait = FIRST_WAIT_S
        while True:
            try:
                return operation()
            except sqlite3.OperationalError as error:
                if not _is_lock_wait(error) or time.monotonic() + wait > deadline:
                    raise
            await asyncio.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT_S)


def _is_lock_wait(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and code != BUSY_SNAPSHOT


def inline_connector(database: str, busy_timeout_s: float) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine`: each call opens one connection to `database`."""

    async def connect() -> InlineConnection:
        # The loop's thread only ever uses it, but SQLAlchemy may close it from a garbage-collection callback.
        # timeout=0: SQLite must never sleep on the loop's thread waiting for a lock; `when_unlocked` waits.
        raw = sqlite3.connect(database, timeout=0, check_same_thread=False)
        return InlineConnection(raw, busy_timeout_s)

    return connect
