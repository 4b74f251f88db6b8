"""Conversions imported from the business, and the phone numbers members shared with the
bot (the key a business file may use). Never commits."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from hearth.storage.types import BigId, UTCDateTime


class ConversionRow(SQLModel, table=True):
    """One business event of one member; unique per community and key (re-imports add
    nothing)."""

    __tablename__ = "conversion"
    __table_args__ = (
        UniqueConstraint("community_id", "key", name="uq_conversion_key"),
        Index("ix_conversion_community_day", "community_id", "occurred_on"),
        Index("ix_conversion_member", "community_id", "member_id", "occurred_on"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=16)  # a ConversionKind
    occurred_on: date
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    key: str = Field(max_length=64)
    imported_at: datetime = Field(sa_type=UTCDateTime)


class MemberContactRow(SQLModel, table=True):
    """The phone number a member shared with the bot through Telegram's contact button,
    normalised to digits with a leading '+'. Only ever their own (checked on receipt)."""

    __tablename__ = "member_contact"
    __table_args__ = (Index("ix_member_contact_phone", "phone"),)

    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    phone: str = Field(max_length=20)
    shared_at: datetime = Field(sa_type=UTCDateTime)
