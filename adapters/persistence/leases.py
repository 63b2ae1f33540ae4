"""Per-person leases in PostgreSQL (appservice mode): which replica answers whose messages, with a fencing generation.

Every statement runs in its own short transaction and reads the database's clock, never a replica's, so
replicas with skewed clocks still agree on who holds what. No lock is held across an agent call: the lease is a
row with an expiry, renewed while its holder lives, and its generation is checked again when a message is marked
done (`FencedInbox`).
"""

import json
from collections.abc import Collection, Iterable
from datetime import timedelta
from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.inbox import inbox_item
from adapters.persistence.tables import InboxRow
from domain.model.controls import Redaction
from domain.model.ids import EventId, RoomId, UserId
from domain.model.messages import Invitation
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
# A job's lease (background reconciliation), held for a run and released when it is done: taken like a person's,
# except that a released one is taken only once it has been free for :idle (a run finished that long ago). So
# replicas on their own timers run the job once per period between them, not once each.
_ACQUIRE_IDLE: Final = text(
    """
    INSERT INTO person_leases (person, holder, generation, expires_at)
    VALUES (:person, :holder, 1, clock_timestamp() + :ttl)
    ON CONFLICT (person) DO UPDATE
        SET holder = excluded.holder, generation = person_leases.generation + 1, expires_at = excluded.expires_at
        WHERE (person_leases.holder IS NULL AND person_leases.expires_at <= clock_timestamp() - CAST(:idle AS interval))
           OR person_leases.holder = excluded.holder
           OR (person_leases.holder IS NOT NULL AND person_leases.expires_at < clock_timestamp())
    RETURNING generation
    """
)
# Released as if free forever: a run that did not finish does not count as one, the next replica to look runs it.
_ABANDON: Final = text(
    """
    UPDATE person_leases SET holder = NULL, expires_at = '-infinity'
    WHERE person = :person AND holder = :holder AND generation = :generation
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
    SELECT w.person FROM (
        SELECT sender AS person FROM inbox WHERE NOT done
        UNION SELECT inviter FROM pending_invitations
    ) w LEFT JOIN person_leases l ON l.person = w.person
    WHERE l.person IS NULL OR l.holder IS NULL OR l.expires_at < clock_timestamp() OR l.holder = :holder
    LIMIT :limit
    """
)
# Arrival order, which is the rooms' order: the homeserver pushes one transaction at a time, in its stream order,
# and each row's arrival is the database's clock (FencedInbox). Not the senders' timestamps: messages sent at the
# same moment carry timestamps in another order than the room shows them (the bench and the scale test saw it).
# The messages this replica already handed out are left out by the database: in a burst a person's backlog is
# read once per transaction, and rebuilding the whole backlog each time grew with its square.
_PENDING_OF: Final = text(
    """
    SELECT * FROM inbox WHERE sender = :person AND NOT done AND event_id <> ALL(:known)
    ORDER BY received_at, event_id
    """
)
_INVITATIONS_OF: Final = text("SELECT room_id FROM pending_invitations WHERE inviter = :person ORDER BY received_at")
_INVITATION_DONE: Final = text("DELETE FROM pending_invitations WHERE room_id = :room_id AND inviter = :person")
_NOTIFY: Final = text("SELECT pg_notify(:channel, :payload)")


def redaction_payload(redaction: Redaction) -> dict[str, str]:
    return {
        "event_id": redaction.event_id,
        "room_id": redaction.room_id,
        "sender": redaction.sender,
        "redacts": redaction.redacts,
    }


def redaction_from(payload: object) -> Redaction | None:
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in _REDACTION_FIELDS):
        return None
    return Redaction(
        event_id=EventId(payload["event_id"]),
        room_id=RoomId(payload["room_id"]),
        sender=UserId(payload["sender"]),
        redacts=EventId(payload["redacts"]),
    )


_REDACTION_FIELDS: Final = ("event_id", "room_id", "sender", "redacts")


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

    async def acquire_idle(self, key: str, idle_s: float) -> int | None:
        """`acquire` for a job: a released lease is taken only when it was released at least `idle_s` ago."""
        params = self._params(person=key) | {"idle": timedelta(seconds=idle_s)}
        async with self._engine.begin() as connection:
            row = (await connection.execute(_ACQUIRE_IDLE, params)).first()
        return None if row is None else int(row.generation)

    async def abandon(self, key: str, generation: int) -> None:
        """`release` for a job that did not finish: the lease is free at once for `acquire_idle` of any period."""
        async with self._engine.begin() as connection:
            await connection.execute(_ABANDON, {"person": key, "holder": self._holder, "generation": generation})

    async def claimable(self, limit: int) -> list[str]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_CLAIMABLE, {"holder": self._holder, "limit": limit})
        return [row.person for row in rows]

    async def waiting_of(self, person: str, known: Collection[str] = ()) -> tuple[list[Invitation], list[InboxItem]]:
        """The person's invitations of the bot not acted on yet and their undone messages except those `known`,
        each oldest first. One connection for both reads: every checkout costs a BEGIN and a ROLLBACK."""
        async with self._engine.connect() as connection:
            invitations = await connection.execute(_INVITATIONS_OF, {"person": person})
            rows = await connection.execute(_PENDING_OF, {"person": person, "known": list(known)})
        return (
            [Invitation(room_id=RoomId(row.room_id), inviter=UserId(person)) for row in invitations],
            [inbox_item(InboxRow(**row._mapping)) for row in rows],
        )

    async def invitation_done(self, invitation: Invitation) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(_INVITATION_DONE, {"room_id": invitation.room_id, "person": invitation.inviter})

    async def notify(self, people: Iterable[str]) -> None:
        """Wakes every replica listening (the holder of these people pumps their new messages)."""
        batch = sorted(set(people))
        async with self._engine.begin() as connection:
            for start in range(0, len(batch), _NOTIFY_BATCH):
                payload = json.dumps({"people": batch[start : start + _NOTIFY_BATCH]})
                await connection.execute(_NOTIFY, {"channel": NOTIFY_CHANNEL, "payload": payload})

    async def notify_redaction(self, redaction: Redaction) -> None:
        """Hands a redaction to every replica: the one answering the redacted question stops that answer."""
        payload = json.dumps({"redaction": redaction_payload(redaction)})
        async with self._engine.begin() as connection:
            await connection.execute(_NOTIFY, {"channel": NOTIFY_CHANNEL, "payload": payload})

    def _params(self, **extra: str) -> dict[str, object]:
        return {"holder": self._holder, "ttl": self._ttl, **extra}
