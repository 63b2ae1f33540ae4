"""Appservice transaction ids, kept in the same database transaction as the inbox rows they brought."""

from datetime import UTC, datetime

from sqlalchemy import Insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import APPSERVICE_TRANSACTIONS, PendingInvitationRow
from adapters.persistence.upsert import insert_unless_present
from domain.model.ids import RoomId, UserId
from domain.model.messages import Invitation
from ports.transactions import TransactionLog


class SqlAlchemyTransactionLog(TransactionLog):
    """`TransactionLog` over one `AsyncSession`; the unit of work commits, never this.

    Two replicas taking in the same transaction at once (Synapse retrying on another connection) both claim it:
    the second claim waits on the first one's uncommitted row, then finds it (a replay) or, if the first rolled
    back, takes it.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, txn_id: str) -> bool:
        # One statement for "is it known?" and "note it": this runs for every transaction the homeserver pushes.
        statement = _claim(self._session.get_bind().dialect.name)
        claimed = await self._session.execute(statement, {"txn_id": txn_id, "received_at": datetime.now(UTC)})
        return claimed.first() is not None

    async def keep_invitation(self, invitation: Invitation) -> None:
        row = PendingInvitationRow(
            room_id=invitation.room_id, inviter=invitation.inviter, received_at=datetime.now(UTC)
        )
        await self._session.merge(row)

    async def invitations(self) -> list[Invitation]:
        rows = await self._session.scalars(select(PendingInvitationRow).order_by(PendingInvitationRow.received_at))
        return [Invitation(room_id=RoomId(row.room_id), inviter=UserId(row.inviter)) for row in rows]


def _claim(dialect: str) -> Insert:
    if dialect not in _CLAIMS:
        statement = insert_unless_present(dialect, APPSERVICE_TRANSACTIONS, "txn_id")
        if statement is None:
            raise RuntimeError(f"appservice transactions need PostgreSQL (or SQLite in tests), not {dialect}")
        _CLAIMS[dialect] = statement  # built once: the values are parameters
    return _CLAIMS[dialect]


_CLAIMS: dict[str, Insert] = {}
