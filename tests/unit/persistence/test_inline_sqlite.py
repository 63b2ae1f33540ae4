"""SQLite on the event loop's thread: a writer waits for another's lock without stalling the loop."""

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.persistence.engine import make_engine
from adapters.persistence.inline_sqlite import inline_connector


async def _with_table(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (n INTEGER)"))


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one())


async def test_a_second_writer_waits_for_the_first_while_other_tasks_run(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    await _with_table(engine)
    first_wrote, release = asyncio.Event(), asyncio.Event()
    ticks = 0
    order: list[str] = []

    async def first() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (1)"))  # holds the write lock from here
            first_wrote.set()
            await release.wait()
            order.append("first commits")

    async def second() -> None:
        await first_wrote.wait()
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (2)"))
        order.append("second wrote")

    async def ticker() -> None:
        nonlocal ticks
        await first_wrote.wait()
        while ticks < 20:  # the loop keeps running while `second` waits for the lock
            ticks += 1
            await asyncio.sleep(0.001)
        release.set()

    try:
        await asyncio.gather(first(), second(), ticker())
        assert order == ["first commits", "second wrote"] and ticks == 20
        assert await _count(engine) == 2
    finally:
        await engine.dispose()


async def test_a_lock_held_past_the_busy_timeout_fails_as_database_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", async_creator=inline_connector(str(path), 0.05))
    await _with_table(engine)
    holder = sqlite3.connect(path)  # another process's writer, say
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO notes VALUES (1)"))
        holder.rollback()
        async with engine.begin() as connection:  # free again: it goes through
            await connection.execute(text("INSERT INTO notes VALUES (1)"))
        assert await _count(engine) == 1
    finally:
        holder.close()
        await engine.dispose()
