"""Snapshots of conversation contexts; rooms remember whether their archive notice was sent.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MATRIX_ID = sa.String(255)


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("owner", MATRIX_ID, nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("agent_id", sa.String(255), nullable=False),
        sa.Column("source_chat_id", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner", "label", name="pk_snapshots"),
    )
    # The server default fills the rows that exist already; batch mode because SQLite
    # cannot alter a table in place.
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("archived_notice_sent", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("archived_notice_sent")
    op.drop_table("snapshots")
