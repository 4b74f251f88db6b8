"""The stored tables (SQLModel). Times are UTC; Telegram ids are the primary keys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from hearth.storage.types import BigId, UTCDateTime


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class Community(SQLModel, table=True):
    """A Telegram group Hearth serves."""

    __tablename__ = "community"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    title: str = Field(max_length=255)
    timezone: str = Field(max_length=64)
    locale: str = Field(max_length=16)
    active: bool = True
    bot_is_admin: bool = False
    welcome_enabled: bool = True
    announce_milestones: bool = True  # congratulate 7+ day streaks in the group
    digest_enabled: bool = True  # operators get the weekly digest in private
    points_rules: dict[str, int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = _utc()
    deactivated_at: datetime | None = _utc(default=None, nullable=True)


class Member(SQLModel, table=True):
    """A Telegram user who took part in a community or started the bot."""

    __tablename__ = "member"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    first_name: str = Field(max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    username: str | None = Field(default=None, max_length=64)
    language_code: str | None = Field(default=None, max_length=35)
    locale: str | None = Field(default=None, max_length=16)  # the member's own choice
    started_bot: bool = False
    started_at: datetime | None = _utc(default=None, nullable=True)
    reachable: bool = True
    forgotten_at: datetime | None = _utc(default=None, nullable=True)  # personal data erased
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class Membership(SQLModel, table=True):
    """A member's place in one community: when they joined, left, came back."""

    __tablename__ = "membership"

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    role: str = Field(default="member", max_length=16)
    joined_at: datetime = _utc()
    left_at: datetime | None = _utc(default=None, nullable=True)
    join_count: int = 1
    joined_via: str = Field(default="join", max_length=16)  # join | seen (already there)
    checkin_reminder_hour: int | None = None  # local hour of the opt-in daily reminder
    tier: str = Field(default="member", max_length=16)  # the tier last announced


MOVES = "kind IN ('join', 'leave')"  # the partial index's condition, as SQL text


class Activity(SQLModel, table=True):
    """Append-only engagement events. Never the content of a message."""

    __tablename__ = "activity"
    __table_args__ = (
        UniqueConstraint("update_id", "member_id", "kind", name="uq_activity_update"),
        # Covering for the daily figures and the lifecycle recompute: both read who was
        # active on which local day without touching the rows (4x faster on SQLite).
        Index("ix_activity_day_member", "community_id", "local_day", "member_id", "kind"),
        Index("ix_activity_member", "community_id", "member_id", "occurred_at"),
        # Joins and leaves only (a small share of the rows, so chatter pays nothing for it):
        # the period figures count them without reading the whole period's activity. A
        # query uses it when its WHERE has this very term, literally (``MOVES``).
        Index(
            "ix_activity_moves",
            "community_id",
            "local_day",
            "kind",
            "member_id",
            sqlite_where=text(MOVES),
            postgresql_where=text(MOVES),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=32)
    occurred_at: datetime = _utc()
    local_day: date
    update_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    peer_member_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled; Telegram re-delivers, Hearth acts once."""

    __tablename__ = "processed_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    processed_at: datetime = _utc(index=True)


class AuditLog(SQLModel, table=True):
    """What operators did, with whom, when."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    actor_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    action: str = Field(max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc()


class Checkin(SQLModel, table=True):
    """One check-in per member per local day, with the streak it made."""

    __tablename__ = "checkin"
    __table_args__ = (
        UniqueConstraint("community_id", "member_id", "local_day", name="uq_checkin_day"),
        Index("ix_checkin_community_day", "community_id", "local_day"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    local_day: date
    checked_in_at: datetime = _utc()
    streak: int
    best: int
    freezes: int  # held after this check-in
    freezes_used: int  # missed days this check-in's streak was carried over


class PointsEntry(SQLModel, table=True):
    """The append-only ledger. Credits are lots: they expire and are spent oldest first."""

    __tablename__ = "points_entry"
    __table_args__ = (
        Index("ix_points_member", "community_id", "member_id", "created_at"),
        Index("ix_points_expiry", "expires_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=16)
    amount: int  # positive for credits, negative for debits
    reason: str = Field(max_length=255)
    idempotency_key: str = Field(max_length=200, unique=True)
    created_at: datetime = _utc()
    expires_at: datetime | None = _utc(default=None, nullable=True)  # credits only
    remaining: int | None = None  # credits only: what is left to spend
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class PointsBalance(SQLModel, table=True):
    """The ledger's sum per member, kept in the same transaction as every entry.

    Its conditional update (``balance >= amount``) is what makes concurrent debits safe.
    """

    __tablename__ = "points_balance"
    __table_args__ = (CheckConstraint("balance >= 0", name="ck_points_balance_not_negative"),)

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    balance: int = 0
    updated_at: datetime = _utc()


class PointsReminder(SQLModel, table=True):
    """Expiry reminders sent: one per lot and advance notice, never twice."""

    __tablename__ = "points_reminder"
    __table_args__ = (UniqueConstraint("lot_id", "days_before", name="uq_points_reminder"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    lot_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("points_entry.id", ondelete="CASCADE"), nullable=False
        )
    )
    days_before: int
    sent_at: datetime = _utc()


class CheckinReminder(SQLModel, table=True):
    """Daily check-in reminders sent: one per member, community and local day."""

    __tablename__ = "checkin_reminder"
    __table_args__ = (
        UniqueConstraint("community_id", "member_id", "local_day", name="uq_checkin_reminder"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    local_day: date
    sent_at: datetime = _utc()
