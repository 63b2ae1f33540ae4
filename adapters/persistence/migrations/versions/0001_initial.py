"""Initial schema: spaces, rooms, inbox, sync state.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MATRIX_ID = sa.String(255)


def upgrade() -> None:
    op.create_table(
        "spaces",
        sa.Column("owner", MATRIX_ID, nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("space_id", MATRIX_ID, nullable=True),
        sa.Column("chats_created", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("owner", name="pk_spaces"),
        sa.UniqueConstraint("space_id", name="uq_spaces_space_id"),
    )
    op.create_table(
        "rooms",
        sa.Column("room_id", MATRIX_ID, nullable=False),
        sa.Column("owner", MATRIX_ID, nullable=False),
        sa.Column("space_id", MATRIX_ID, nullable=False),
        sa.Column("chat_number", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.String(255), nullable=False),
        sa.Column("platform_chat_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("room_id", name="pk_rooms"),
        sa.UniqueConstraint("platform_chat_id", name="uq_rooms_platform_chat_id"),
    )
    op.create_index("ix_rooms_owner", "rooms", ["owner"])
    op.create_table(
        "inbox",
        sa.Column("event_id", MATRIX_ID, nullable=False),
        sa.Column("room_id", MATRIX_ID, nullable=False),
        sa.Column("sender", MATRIX_ID, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name="pk_inbox"),
    )
    op.create_index("ix_inbox_room_id", "inbox", ["room_id"])
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_sync_state"),
    )


def downgrade() -> None:
    op.drop_table("sync_state")
    op.drop_index("ix_inbox_room_id", table_name="inbox")
    op.drop_table("inbox")
    op.drop_index("ix_rooms_owner", table_name="rooms")
    op.drop_table("rooms")
    op.drop_table("spaces")
