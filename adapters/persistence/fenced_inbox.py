"""The inbox of appservice mode: a message is marked done only under the lease it was handed out with."""

from dataclasses import dataclass
from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.inbox import SqlAlchemyInbox
from domain.model.ids import EventId

# One statement on the hot path: the message is marked done only while the lease row is still this replica's,
# with the generation it was handed out under. FOR SHARE: a replica taking the lease over (an UPDATE of that row)
# waits until this transaction has committed, so its read of the person's pending messages sees this one done.
_MARK_DONE_UNDER_LEASE: Final = text(
    """
    UPDATE inbox SET done = true, done_at = clock_timestamp()
    WHERE event_id = :event_id AND NOT done AND EXISTS (
        SELECT 1 FROM person_leases
        WHERE person = :person AND holder = :holder AND generation = :generation
          AND expires_at >= clock_timestamp()
        FOR SHARE
    )
    RETURNING event_id
    """
)
# Only when nothing was marked: already done (or unknown), which is fine, or the lease is gone, which is not.
_LEASE_STILL_HELD: Final = text(
    """
    SELECT 1 FROM person_leases
    WHERE person = :person AND holder = :holder AND generation = :generation AND expires_at >= clock_timestamp()
    FOR SHARE
    """
)


class LeaseLost(Exception):
    """The lease a message was handed out under has expired or moved to another replica: not marked done here."""


@dataclass(frozen=True, kw_only=True)
class Ticket:
    person: str
    generation: int


class WorkTickets:
    """Which lease each message in this replica's queues was handed out under (filled by the lease dispatch)."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        self._tickets: dict[EventId, Ticket] = {}

    def issue(self, event_id: EventId, ticket: Ticket) -> None:
        self._tickets[event_id] = ticket

    def get(self, event_id: EventId) -> Ticket | None:
        return self._tickets.get(event_id)

    def withdraw(self, event_id: EventId) -> None:
        self._tickets.pop(event_id, None)


class FencedInbox(SqlAlchemyInbox):
    """Messages are recorded with the database's clock as their arrival (replicas' clocks may differ), and
    `mark_done` checks the fencing generation in the same transaction; a lost lease raises `LeaseLost` and
    the unit of work keeps nothing. The new holder answers the message again: the replies' transaction ids are
    deterministic and every send names the one appservice device, so the homeserver returns the same events."""

    def __init__(self, session: AsyncSession, tickets: WorkTickets) -> None:
        super().__init__(session, arrival_by_database=True)
        self._session = session
        self._tickets = tickets

    async def mark_done(self, event_id: EventId) -> None:
        ticket = self._tickets.get(event_id)
        if ticket is None:
            raise LeaseLost(f"{event_id} was not handed out under a lease of this replica")
        lease = {"person": ticket.person, "holder": self._tickets.holder, "generation": ticket.generation}
        marked = await self._session.execute(_MARK_DONE_UNDER_LEASE, {"event_id": event_id, **lease})
        if marked.first() is not None:
            return
        if (await self._session.execute(_LEASE_STILL_HELD, lease)).first() is None:
            raise LeaseLost(f"the lease on {ticket.person} (generation {ticket.generation}) is no longer held")


class FencedInboxFactory:
    """Builds the fenced inbox for each unit of work's session."""

    def __init__(self, tickets: WorkTickets) -> None:
        self._tickets = tickets

    def __call__(self, session: AsyncSession) -> SqlAlchemyInbox:
        return FencedInbox(session, self._tickets)
