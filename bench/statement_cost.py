"""`uv run python -m bench.statement_cost`: the bot's CPU for one PostgreSQL statement, through SQLAlchemy and
on asyncpg directly.

The appservice mode's CPU per message is mostly its dozen statements (py-spy, docs/decisions.md). This separates
what a statement costs in the driver from what SQLAlchemy adds: the room read of every message (`rooms.get`'s
prepared Core statement), executed again and again on one connection inside one transaction, timed with the
process's CPU clock (PostgreSQL's own work is another process's). Each way asks the same question with the same
parameters; the first executions warm the statement caches and are not counted.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import uvloop
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.engine import make_engine
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.rooms import _GET
from tests.servers.postgres import postgres_cluster

ROOM = "!room:example.org"
SQL = "SELECT * FROM rooms WHERE room_id = $1"
WARM_UP = 300


def ways(connection: AsyncConnection, driver: Any) -> dict[str, Callable[[], Awaitable[object]]]:
    async def core() -> object:
        return (await connection.execute(_GET, {"b_room_id": ROOM})).first()

    async def text_clause() -> object:
        return (await connection.execute(text("SELECT * FROM rooms WHERE room_id = :r"), {"r": ROOM})).first()

    async def driver_sql() -> object:
        return (await connection.exec_driver_sql(SQL, (ROOM,))).first()

    async def asyncpg_direct() -> object:
        return await driver.fetchrow(SQL, ROOM)

    return {
        "sqlalchemy_core": core,
        "sqlalchemy_text": text_clause,
        "sqlalchemy_exec_driver_sql": driver_sql,
        "asyncpg": asyncpg_direct,
    }


async def cpu_us_per_call(call: Callable[[], Awaitable[object]], count: int) -> float:
    for _ in range(WARM_UP):
        await call()
    started = time.process_time()
    for _ in range(count):
        await call()
    return round(1e6 * (time.process_time() - started) / count, 1)


async def measure(url: str, count: int) -> dict[str, float]:
    await upgrade_database(url)
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))  # the transaction is open: asyncpg runs inside it too
            driver = (await connection.get_raw_connection()).driver_connection
            return {name: await cpu_us_per_call(call, count) for name, call in ways(connection, driver).items()}
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.statement_cost", description=__doc__)
    parser.add_argument("--count", type=int, default=3000, help="timed executions of each way")
    args = parser.parse_args()
    for cluster in postgres_cluster():
        figures = uvloop.run(measure(cluster.url, args.count))
        print(json.dumps({"cpu_us_per_statement": figures, "count": args.count}, indent=2))


if __name__ == "__main__":
    main()
