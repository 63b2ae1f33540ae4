"""Appservice transaction ids, kept in the same database transaction as the inbox rows they brought."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.tables import AppserviceTransactionRow, PendingInvitationRow
from domain.model.ids import RoomId, UserId
from domain.model.messages import Invitation
from ports.transactions import TransactionLog


class SqlAlchemyTransactionLog(TransactionLog):
    """`TransactionLog` over one `AsyncSession`; the unit of work commits, never this.

    Two replicas taking in the same transaction at once (Synapse retrying on another connection) both insert;
    the second commit fails on the primary key, and that request answers 500 for Synapse to retry (then a replay).
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def is_known(self, txn_id: str) -> bool:
        return await self._session.get(AppserviceTransactionRow, txn_id) is not None

    async def record(self, txn_id: str) -> None:
        self._session.add(AppserviceTransactionRow(txn_id=txn_id, received_at=datetime.now(UTC)))

    async def keep_invitation(self, invitation: Invitation) -> None:
        row = PendingInvitationRow(
            room_id=invitation.room_id, inviter=invitation.inviter, received_at=datetime.now(UTC)
        )
        await self._session.merge(row)

    async def invitations(self) -> list[Invitation]:
        rows = await self._session.scalars(select(PendingInvitationRow).order_by(PendingInvitationRow.received_at))
        return [Invitation(room_id=RoomId(row.room_id), inviter=UserId(row.inviter)) for row in rows]
