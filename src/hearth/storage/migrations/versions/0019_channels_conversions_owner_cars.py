"""Issue 12: channels and their touches, conversions and shared phone numbers, owner
car profiles, service reminder settings and service requests (seven new tables).

Nothing existing changes: communities start with no channel, no conversion and service
reminders off.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28 16:48:21.891203
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import hearth.storage.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "car_profile",
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("purchased_on", sa.Date(), nullable=True),
        sa.Column("mileage_km", sa.Integer(), nullable=True),
        sa.Column("mileage_on", sa.Date(), nullable=True),
        sa.Column("previous_km", sa.Integer(), nullable=True),
        sa.Column("previous_on", sa.Date(), nullable=True),
        sa.Column("serviced_on", sa.Date(), nullable=True),
        sa.Column("service_km", sa.Integer(), nullable=True),
        sa.Column("reminders_on", sa.Boolean(), nullable=False),
        sa.Column("snoozes", sa.Integer(), nullable=False),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("reminded_due", sa.Date(), nullable=True),
        sa.Column("reminded_round", sa.Integer(), nullable=False),
        sa.Column("owner_years", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("updated_at", hearth.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id", "member_id"),
    )
    op.create_table(
        "channel",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", hearth.storage.types.UTCDateTime(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "name", name="uq_channel_name"),
    )
    op.create_table(
        "conversion",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("imported_at", hearth.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "key", name="uq_conversion_key"),
    )
    with op.batch_alter_table("conversion", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversion_community_day", ["community_id", "occurred_on"], unique=False
        )
        batch_op.create_index(
            "ix_conversion_member", ["community_id", "member_id", "occurred_on"], unique=False
        )

    op.create_table(
        "member_contact",
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("shared_at", hearth.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
    )
    with op.batch_alter_table("member_contact", schema=None) as batch_op:
        batch_op.create_index("ix_member_contact_phone", ["phone"], unique=False)

    op.create_table(
        "service_request",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("requested_at", hearth.storage.types.UTCDateTime(), nullable=False),
        sa.Column("done_at", hearth.storage.types.UTCDateTime(), nullable=True),
        sa.Column("done_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "member_id", "due_on", name="uq_service_request_due"),
    )
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.create_index("ix_service_request_open", ["community_id", "done_at"], unique=False)

    op.create_table(
        "service_settings",
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("km", sa.Integer(), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("booking_url", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("updated_at", hearth.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id"),
    )
    op.create_table(
        "channel_touch",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("touched_at", hearth.storage.types.UTCDateTime(), nullable=False),
        sa.Column("touched_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "community_id", "member_id", "channel_id", "touched_on", name="uq_channel_touch_day"
        ),
    )
    with op.batch_alter_table("channel_touch", schema=None) as batch_op:
        batch_op.create_index("ix_channel_touch_channel", ["channel_id"], unique=False)
        batch_op.create_index(
            "ix_channel_touch_member", ["community_id", "member_id", "touched_at"], unique=False
        )
        batch_op.create_index("ix_channel_touch_person", ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("channel_touch", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_touch_person")
        batch_op.drop_index("ix_channel_touch_member")
        batch_op.drop_index("ix_channel_touch_channel")

    op.drop_table("channel_touch")
    op.drop_table("service_settings")
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_index("ix_service_request_open")

    op.drop_table("service_request")
    with op.batch_alter_table("member_contact", schema=None) as batch_op:
        batch_op.drop_index("ix_member_contact_phone")

    op.drop_table("member_contact")
    with op.batch_alter_table("conversion", schema=None) as batch_op:
        batch_op.drop_index("ix_conversion_member")
        batch_op.drop_index("ix_conversion_community_day")

    op.drop_table("conversion")
    op.drop_table("channel")
    op.drop_table("car_profile")
