"""Operator tags: labels operators put on members of their community (``/tag @user vip``).

Automatic tags (tier, interests, habits) are recomputed daily and stored with the standing
in ``membership_stage``; the operators' tags live here, one row per tag, until removed.
Never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from hearth.storage.types import UTCDateTime


class MemberTagRow(SQLModel, table=True):
    """One operator tag on one membership."""

    __tablename__ = "member_tag"
    __table_args__ = (Index("ix_member_tag_community_tag", "community_id", "tag"),)

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(max_length=32, primary_key=True)  # a slug: see ``rfm.tag_slug``
    added_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    added_at: datetime = Field(sa_type=UTCDateTime)
