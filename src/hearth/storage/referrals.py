"""Referrals: which member's invite brought which friend to a community. Never commits.

One row per (community, friend): the primary key is what makes the first invite win.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, func, select, update
from sqlmodel import Field, SQLModel, col

from hearth.domain.referrals import Referral, ReferralCounts
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.types import UTCDateTime


class ReferralRow(SQLModel, table=True):
    """A friend an invite brought: when, whether they joined, whether the inviter earned."""

    __tablename__ = "referral"
    __table_args__ = (Index("ix_referral_referrer", "community_id", "referrer_id"),)

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    referred_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    referrer_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    referred_at: datetime = Field(sa_type=UTCDateTime)
    joined_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    credited_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    points: int | None = None


class SqlReferralRepository(_Repository):
    """Referrals of every community."""

    async def add(self, referral: Referral) -> bool:
        """Record a referral; False when the friend was referred to the community before."""
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, ReferralRow),
            {
                "community_id": referral.community_id,
                "referred_id": referral.referred_id,
                "referrer_id": referral.referrer_id,
                "referred_at": referral.referred_at,
            },
        )

    async def get(self, community_id: int, referred_id: int) -> Referral | None:
        row = await self.session.get(ReferralRow, (community_id, referred_id))
        if row is None:
            return None
        return Referral(
            community_id=row.community_id,
            referrer_id=row.referrer_id,
            referred_id=row.referred_id,
            referred_at=row.referred_at,
            joined_at=row.joined_at,
            credited_at=row.credited_at,
            points=row.points,
        )

    async def mark_joined(self, community_id: int, referred_id: int, at: datetime) -> bool:
        """The friend joined the group (the first join counts); False if not referred."""
        return await self._changed(
            community_id, referred_id, col(ReferralRow.joined_at).is_(None), joined_at=at
        )

    async def mark_credited(
        self, community_id: int, referred_id: int, points: int, at: datetime
    ) -> bool:
        """The inviter earned ``points`` for the friend; False if that was done already."""
        return await self._changed(
            community_id,
            referred_id,
            col(ReferralRow.credited_at).is_(None),
            credited_at=at,
            points=points,
        )

    async def counts(self, community_id: int, referrer_id: int) -> ReferralCounts:
        """How many friends the member invited, saw join and earned points for."""
        row = ReferralRow
        found = (
            await self.session.execute(
                select(
                    func.count(),
                    func.count(col(row.joined_at)),
                    func.count(col(row.credited_at)),
                    func.coalesce(func.sum(col(row.points)), 0),
                ).where(col(row.community_id) == community_id, col(row.referrer_id) == referrer_id)
            )
        ).one()
        return ReferralCounts(*(int(value or 0) for value in found))

    async def _changed(
        self, community_id: int, referred_id: int, condition: object, **values: object
    ) -> bool:
        result = await self.session.execute(
            update(ReferralRow)
            .where(
                col(ReferralRow.community_id) == community_id,
                col(ReferralRow.referred_id) == referred_id,
                condition,  # type: ignore[arg-type]
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))
