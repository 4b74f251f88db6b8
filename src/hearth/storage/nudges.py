"""Reactivation nudges: every decision (planned, sent, held out, skipped) and its outcome,
the communities' nudge settings and templates, and the members' own choices. Never commits.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from hearth.storage.types import BigId, UTCDateTime


class NudgeRow(SQLModel, table=True):
    """One decision about one member on one local day, and what came of it.

    Unique per membership and local day: the daily plan can run again (or twice) and
    decides nothing more. ``status`` is a ``NudgeStatus``; ``reason`` a ``SkipReason``.
    """

    __tablename__ = "nudge"
    __table_args__ = (
        UniqueConstraint("community_id", "member_id", "planned_on", name="uq_nudge_day"),
        Index("ix_nudge_status_due", "status", "due_at"),
        Index("ix_nudge_member", "community_id", "member_id", "planned_on"),
        Index("ix_nudge_community_day", "community_id", "planned_on"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    planned_on: date  # local day of the decision
    episode: date  # the dormancy episode: the member's last active day before it
    step: int  # 1, 2 or 3 within the episode
    status: str = Field(max_length=16)
    kind: str | None = Field(default=None, max_length=16)  # what it says (sent and planned)
    reason: str | None = Field(default=None, max_length=16)  # why it was skipped
    template: str | None = Field(default=None, max_length=32)  # "streak:1", "custom:7"
    event_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    decided_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    clicked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    opted_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class NudgeSettingsRow(SQLModel, table=True):
    """A community's nudge settings; no row means the defaults."""

    __tablename__ = "nudge_settings"

    community_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("community.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    paused: bool = False
    daily_cap: int = 50
    holdout_percent: int = 10
    comeback_points: int = 30
    planned_on: date | None = None  # the local day of the last plan made
    updated_at: datetime = Field(sa_type=UTCDateTime)


class NudgePreferenceRow(SQLModel, table=True):
    """A member's own choice (all communities): nudges on or off, quiet hours (local)."""

    __tablename__ = "nudge_preference"

    member_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("member.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    enabled: bool = True
    quiet_start: int = 21  # local hour, in each community's time zone
    quiet_end: int = 9
    updated_at: datetime = Field(sa_type=UTCDateTime)


class NudgeTemplateRow(SQLModel, table=True):
    """An operator's own template for one kind of nudge; it replaces the built-in ones."""

    __tablename__ = "nudge_template"
    __table_args__ = (Index("ix_nudge_template_kind", "community_id", "kind"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=16)
    text: str = Field(max_length=1000)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)
