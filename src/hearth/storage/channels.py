"""Channels (dealers, stores, partners) and who came through their links. Never commits."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from hearth.storage.types import BigId, UTCDateTime


class ChannelRow(SQLModel, table=True):
    """A dealer, store or partner of one community."""

    __tablename__ = "channel"
    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_channel_name"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    name: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    contact_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    archived: bool = False


class ChannelTouchRow(SQLModel, table=True):
    """Someone opened a channel's link: the earliest touch of a member in a community is
    the one they are attributed to; later ones are kept (one per channel and day is
    enough, so a member scanning the same QR code twice is one touch)."""

    __tablename__ = "channel_touch"
    __table_args__ = (
        UniqueConstraint(
            "community_id", "member_id", "channel_id", "touched_on", name="uq_channel_touch_day"
        ),
        Index("ix_channel_touch_member", "community_id", "member_id", "touched_at"),
        Index("ix_channel_touch_channel", "channel_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    channel_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("channel.id", ondelete="CASCADE"), nullable=False)
    )
    touched_at: datetime = Field(sa_type=UTCDateTime)
    touched_on: date  # the UTC day of touched_at
