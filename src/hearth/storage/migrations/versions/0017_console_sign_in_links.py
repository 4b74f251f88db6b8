"""Operator console: one-time sign-in links (console_link).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 13:53:11.107275
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hearth.storage.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_link",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", hearth.storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", hearth.storage.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", hearth.storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("nonce"),
    )


def downgrade() -> None:
    op.drop_table("console_link")
