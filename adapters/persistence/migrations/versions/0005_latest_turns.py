"""Latest turns: each room's latest answered question and answer event, for regenerate and edit (issue 18).

Revision ID: 0006
Revises: 0004 (0005 is being written on another branch; re-pointed to it when both are merged)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "latest_turns",
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("question_id", sa.String(255), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer_id", sa.String(255), nullable=False),
        sa.Column("trigger", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("room_id", name="pk_latest_turns"),
    )


def downgrade() -> None:
    op.drop_table("latest_turns")
