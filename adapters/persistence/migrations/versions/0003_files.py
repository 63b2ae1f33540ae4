"""Files: inbox rows of any kind (a file's details as a JSON payload); attachments staged per room.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MATRIX_ID = sa.String(255)


def upgrade() -> None:
    # Rows already there are texts: the server default says so. Batch mode because SQLite
    # cannot alter a table in place.
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), server_default="text", nullable=False))
        batch.add_column(sa.Column("payload", sa.Text(), nullable=True))
    op.create_table(
        "staged_files",
        sa.Column("room_id", MATRIX_ID, nullable=False),
        sa.Column("event_id", MATRIX_ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("mime_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("workspace_path", sa.Text(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("room_id", "event_id", name="pk_staged_files"),
    )


def downgrade() -> None:
    op.drop_table("staged_files")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("payload")
        batch.drop_column("kind")
