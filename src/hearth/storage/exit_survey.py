"""The exit survey's table and repository. The repository never commits.

One row per member and community, written when the question is queued: its unique key is
what makes the question once-only, ever. Erasing a member's answers blanks them and keeps
the row, so that a forgotten member is not asked again either.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlmodel import Field, SQLModel, col

from hearth.domain.exit_survey import Departures, ExitReason
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.tables import _utc
from hearth.storage.types import BigId


class ExitSurveyRow(SQLModel, table=True):
    """The question to a member who left one community, and their answer."""

    __tablename__ = "exit_survey"
    __table_args__ = (
        UniqueConstraint("community_id", "member_id", name="uq_exit_survey_member"),
        Index("ix_exit_survey_asked", "community_id", "asked_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    asked_at: datetime = _utc()
    reason: str | None = Field(default=None, max_length=16)
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_at: datetime | None = _utc(default=None, nullable=True)


_REASONS = {reason.value: reason for reason in ExitReason}


class SqlExitSurveyRepository(_Repository):
    async def claim(self, community_id: int, member_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            insert_ignoring_duplicates(self.dialect, ExitSurveyRow)
            .values(community_id=community_id, member_id=member_id, asked_at=now)
            .returning(col(ExitSurveyRow.id))
        )
        return result.scalar_one_or_none() is not None

    async def answer(
        self, community_id: int, member_id: int, reason: ExitReason, now: datetime
    ) -> bool:
        return await self._changed(community_id, member_id, reason=reason.value, answered_at=now)

    async def add_comment(self, community_id: int, member_id: int, comment: str) -> bool:
        return await self._changed(community_id, member_id, comment=comment)

    async def departures(self, community_id: int, start: datetime, end: datetime) -> Departures:
        result = await self.session.execute(
            select(col(ExitSurveyRow.reason), func.count())
            .where(
                col(ExitSurveyRow.community_id) == community_id,
                col(ExitSurveyRow.asked_at) >= start,
                col(ExitSurveyRow.asked_at) < end,
            )
            .group_by(col(ExitSurveyRow.reason))
        )
        asked, reasons = 0, Counter[ExitReason]()
        for reason, count in result:
            asked += int(count)
            if reason in _REASONS:
                reasons[_REASONS[reason]] += int(count)
        return Departures(asked=asked, answered=sum(reasons.values()), reasons=reasons)

    async def _changed(self, community_id: int, member_id: int, **values: object) -> bool:
        result = await self.session.execute(
            update(ExitSurveyRow)
            .where(
                col(ExitSurveyRow.community_id) == community_id,
                col(ExitSurveyRow.member_id) == member_id,
            )
            .values(**values)
            .returning(col(ExitSurveyRow.id))
            .execution_options(synchronize_session=False)
        )
        return result.scalar_one_or_none() is not None
