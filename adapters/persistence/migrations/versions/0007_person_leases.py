"""Per-person leases (appservice mode, several replicas) and the index the lease sweep reads pending work by.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_leases",
        sa.Column("person", sa.String(255), nullable=False),
        sa.Column("holder", sa.String(255), nullable=True),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person", name="pk_person_leases"),
    )
    # Only undone rows: the sweep asks "whose messages wait?", and done rows are the inbox's vast majority.
    op.create_index(
        "ix_inbox_pending_sender",
        "inbox",
        ["sender"],
        postgresql_where=sa.text("NOT done"),
        sqlite_where=sa.text("NOT done"),
    )
    op.create_index("ix_appservice_transactions_received_at", "appservice_transactions", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_appservice_transactions_received_at", table_name="appservice_transactions")
    op.drop_index("ix_inbox_pending_sender", table_name="inbox")
    op.drop_table("person_leases")
