"""A pushed transaction taken in: its messages in the inbox and its id in the log, in one database transaction."""

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError

from adapters.matrix.appservice.transaction_mapping import MappedTransaction, map_transaction
from adapters.persistence.engine import is_connection_lost
from domain.model.controls import Redaction
from domain.model.ids import RoomId
from domain.model.messages import RoomEvent, RoomRenamed
from ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class WorkDispatch(Protocol):
    """Where taken-in events go: the lease dispatch (lease_dispatch.py), so that one replica answers a person."""

    def recorded(self, people: Iterable[str]) -> None:
        """These people have new messages (in the inbox) or invitations (in the transaction log) committed."""
        ...

    def run_here(self, event: RoomEvent) -> None:
        """An event the inbox does not keep (a rename, a redaction), handled by this replica."""
        ...


class TransactionIntake:
    """Commit first, hand out second: once `take_in` returns, the transaction is durable and may be acknowledged.

    A failure raises before anything is acknowledged, so the homeserver sends the transaction again; the inbox
    (keyed by event id) and the transaction log make the second delivery change nothing twice. A crash after
    the commit loses no message: it waits undone in the inbox for a replica's lease sweep.
    """

    def __init__(self, uow: UnitOfWorkFactory, own_user_id: str, dispatch: WorkDispatch) -> None:
        self._uow = uow
        self._own = own_user_id
        self._dispatch = dispatch
        self._encrypted_logged: set[RoomId] = set()

    async def take_in(self, txn_id: str, raw_events: list[Any]) -> None:
        mapped = map_transaction(raw_events, self._own)
        try:
            new = await self._record(txn_id, mapped)
        except DBAPIError as error:
            if not is_connection_lost(error):
                raise
            # Nothing was committed, and the pool went with the connection: a second try gets a new one. Answering
            # 500 instead would make Synapse back off from the appservice for seconds (after a database restart).
            new = await self._record(txn_id, mapped)
        if new is None:
            log.info("transaction_replayed", extra={"txn_id": txn_id})
            return
        for room_id in mapped.encrypted_rooms:
            self._note_encrypted(room_id)
        for event in new:
            if isinstance(event, RoomRenamed | Redaction):
                self._dispatch.run_here(event)
        people = [e.sender for e in new if not isinstance(e, RoomRenamed | Redaction)]
        self._dispatch.recorded([*people, *(i.inviter for i in mapped.invitations)])

    async def _record(self, txn_id: str, mapped: MappedTransaction) -> list[RoomEvent] | None:
        """The events new to the inbox (renames and redactions always), committed; None for a replay."""
        async with self._uow() as uow:
            if not await uow.transactions.claim(txn_id):
                return None
            new = [e for e in mapped.events if isinstance(e, RoomRenamed | Redaction) or await uow.inbox.record(e)]
            for invitation in mapped.invitations:
                # Kept: acknowledged transactions never come again, and a crash must not lose a first contact.
                await uow.transactions.keep_invitation(invitation)
            await uow.commit()
        return new

    def _note_encrypted(self, room_id: RoomId) -> None:
        if room_id not in self._encrypted_logged:
            self._encrypted_logged.add(room_id)
            log.warning("encrypted_room_not_answered", extra={"room_id": room_id, "reason": "appservice mode"})
