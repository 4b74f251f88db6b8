"""Activity: a partial index on joins and leaves (ix_activity_moves).

The period figures (/stats, the digest, the console's overview) count joins and leaves per
period; with this index they read those rows only, not the period's whole activity. Only
join and leave rows are in it, so writing chatter costs nothing more.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 15:01:00.913519
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVES = "kind IN ('join', 'leave')"


def upgrade() -> None:
    op.create_index(
        "ix_activity_moves",
        "activity",
        ["community_id", "local_day", "kind", "member_id"],
        unique=False,
        sqlite_where=sa.text(MOVES),
        postgresql_where=sa.text(MOVES),
    )


def downgrade() -> None:
    op.drop_index("ix_activity_moves", table_name="activity")
