"""Invitations of the bot taken in by appservice mode and not acted on yet: a crash after the acknowledgement
loses none (the homeserver never sends an acknowledged transaction again).

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_invitations",
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("inviter", sa.String(255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("room_id", name="pk_pending_invitations"),
    )
    op.create_index("ix_pending_invitations_inviter", "pending_invitations", ["inviter"])


def downgrade() -> None:
    op.drop_index("ix_pending_invitations_inviter", table_name="pending_invitations")
    op.drop_table("pending_invitations")
