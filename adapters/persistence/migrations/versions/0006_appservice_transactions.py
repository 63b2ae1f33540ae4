"""Appservice transactions taken in: a transaction the homeserver replays is acknowledged without re-processing.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appservice_transactions",
        sa.Column("txn_id", sa.String(255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("txn_id", name="pk_appservice_transactions"),
    )


def downgrade() -> None:
    op.drop_table("appservice_transactions")
