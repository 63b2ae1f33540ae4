"""Appservice transaction ids, kept in the same database transaction as the inbox rows they brought."""

from datetime import UTC, datetime

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import APPSERVICE_TRANSACTIONS, AppserviceTransactionRow, PendingInvitationRow
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

    async def is_known(self, txn_id: str) -> bool:
        return await self._session.get(AppserviceTransactionRow, txn_id) is not None

    async def claim(self, txn_id: str) -> bool:
        # One statement for "is it known?" and "note it": this runs for every transaction the homeserver pushes.
        statement = _CLAIMS[self._session.get_bind().dialect.name]
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


def _claim(insert: postgresql.Insert | sqlite.Insert) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: a row back only when the transaction id was new."""
    key = APPSERVICE_TRANSACTIONS.c.txn_id
    return insert.on_conflict_do_nothing(index_elements=[key]).returning(key)


# Built once per dialect (the values are parameters): appservice mode runs on PostgreSQL, the tests on both.
_CLAIMS: dict[str, Insert] = {
    "postgresql": _claim(postgresql.insert(APPSERVICE_TRANSACTIONS)),
    "sqlite": _claim(sqlite.insert(APPSERVICE_TRANSACTIONS)),
}
