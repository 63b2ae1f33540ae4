"""Insert-or-update, and insert-unless-present, in one statement on the two databases the bot runs on."""

from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert(dialect: str, table: Table, values: dict[str, Any], key: list[str]) -> Insert | None:
    """`INSERT … ON CONFLICT (key) DO UPDATE` with `values`; None on a database without it (the caller falls
    back). One statement instead of a read-then-write or a delete-then-insert: one round trip, and two tasks
    writing the same key cannot both try to insert it."""
    changed = {name: value for name, value in values.items() if name not in key}
    if dialect == "sqlite":
        return sqlite.insert(table).values(values).on_conflict_do_update(index_elements=key, set_=changed)
    if dialect == "postgresql":
        return postgresql.insert(table).values(values).on_conflict_do_update(index_elements=key, set_=changed)
    return None


def insert_unless_present(dialect: str, table: Table, key: str) -> Insert | None:
    """`INSERT … ON CONFLICT (key) DO NOTHING RETURNING key`: a row back only when the key was new; None on a
    database without it. Not catching the duplicate's error instead: on PostgreSQL a failed INSERT aborts the
    whole transaction, and with it the caller's other work."""
    column = table.c[key]
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=[column]).returning(column)
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[column]).returning(column)
    return None
