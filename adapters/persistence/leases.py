"""Per-person leases in PostgreSQL (appservice mode): which replica answers whose messages, with a fencing generation.

Every statement runs in its own short transaction and reads the database's clock, never a replica's, so
replicas with skewed clocks still agree on who holds what. No lock is held across an agent call: the lease is a
row with an expiry, renewed while its holder lives, and its generation is checked again when a message is marked
done (`FencedInbox`).
"""

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.inbox import inbox_item
from adapters.persistence.tables import InboxRow
from ports.inbox import InboxItem

NOTIFY_CHANNEL: Final = "surfaces_inbox"
# pg_notify payloads must stay under 8000 bytes; Matrix ids are at most 255.
_NOTIFY_BATCH: Final = 25

# Taken when free, released or expired; a live lease of another replica is left alone. The generation grows on
# every take-over, so a former holder's late "done" is refused. A lease already under this replica's id is taken
# back too: a replica restarted with the same id (same host name and pid in a restarted container) need not wait
# out its former self, and the new generation fences whatever that former self still had in flight. Within one
# process the dispatch asks only for people it does not hold.
_ACQUIRE: Final = text(
    """
    INSERT INTO person_leases (person, holder, generation, expires_at)
    VALUES (:person, :holder, 1, clock_timestamp() + :ttl)
    ON CONFLICT (person) DO UPDATE
        SET holder = excluded.holder, generation = person_leases.generation + 1, expires_at = excluded.expires_at
        WHERE person_leases.holder IS NULL
           OR person_leases.holder = excluded.holder
           OR person_leases.expires_at < clock_timestamp()
    RETURNING generation
    """
)
_RENEW: Final = text(
    """
    UPDATE person_leases SET expires_at = clock_timestamp() + :ttl
    WHERE holder = :holder AND expires_at >= clock_timestamp()
    RETURNING person, generation
    """
)
_RELEASE: Final = text(
    """
    UPDATE person_leases SET holder = NULL, expires_at = clock_timestamp()
    WHERE person = :person AND holder = :holder AND generation = :generation
    """
)
# People with undone messages whose lease is free, expired, or this replica's: the catch-up after a crash,
# a missed notification, a take-over. Bounded, so one sweep never reads the whole inbox.
_CLAIMABLE: Final = text(
    """
    SELECT DISTINCT i.sender FROM inbox i LEFT JOIN person_leases l ON l.person = i.sender
    WHERE NOT i.done
      AND (l.person IS NULL OR l.holder IS NULL OR l.expires_at < clock_timestamp() OR l.holder = :holder)
    LIMIT :limit
    """
)
# The same order as `Inbox.pending`: what the room queues must see first comes first.
_PENDING_OF: Final = text(
    """
    SELECT * FROM inbox WHERE sender = :person AND NOT done
    ORDER BY timestamp_ms, received_at, event_id
    """
)
_NOTIFY: Final = text("SELECT pg_notify(:channel, :payload)")


class PostgresPersonLeases:
    """The lease table and the reads the dispatch needs, each on a pooled connection of its own."""

    def __init__(self, engine: AsyncEngine, holder: str, ttl_s: float) -> None:
        self._engine = engine
        self._holder = holder
        self._ttl = timedelta(seconds=ttl_s)

    @property
    def holder(self) -> str:
        return self._holder

    async def acquire(self, person: str) -> int | None:
        """The new generation when this replica now holds the person; None when another replica does."""
        async with self._engine.begin() as connection:
            row = (await connection.execute(_ACQUIRE, self._params(person=person))).first()
        return None if row is None else int(row.generation)

    async def renew(self) -> dict[str, int]:
        """Extends every live lease this replica holds; returns them. A lease missing here was lost."""
        async with self._engine.begin() as connection:
            rows = await connection.execute(_RENEW, self._params())
        return {row.person: int(row.generation) for row in rows}

    async def release(self, person: str, generation: int) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(_RELEASE, {"person": person, "holder": self._holder, "generation": generation})

    async def claimable(self, limit: int) -> list[str]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_CLAIMABLE, {"holder": self._holder, "limit": limit})
        return [row.sender for row in rows]

    async def pending_of(self, person: str) -> list[InboxItem]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_PENDING_OF, {"person": person})
        return [inbox_item(InboxRow(**row._mapping)) for row in rows]

    async def notify(self, people: Iterable[str]) -> None:
        """Wakes every replica listening (the holder of these people pumps their new messages)."""
        batch = sorted(set(people))
        async with self._engine.begin() as connection:
            for start in range(0, len(batch), _NOTIFY_BATCH):
                payload = json.dumps(batch[start : start + _NOTIFY_BATCH])
                await connection.execute(_NOTIFY, {"channel": NOTIFY_CHANNEL, "payload": payload})

    def _params(self, **extra: str) -> dict[str, object]:
        return {"holder": self._holder, "ttl": self._ttl, **extra}
