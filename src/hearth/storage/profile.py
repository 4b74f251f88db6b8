"""The questionnaire's questions per community (the answers are member tags). Never commits.

A community without rows asks the default questions; once an operator changes them, the
whole list is stored. A removed question keeps its row (marked removed), so that a list
emptied by its operators stays empty rather than falling back to the defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, select, update
from sqlmodel import Field, SQLModel, col

from hearth.domain.profile import ProfileOption, ProfileQuestion
from hearth.storage.repositories import _Repository
from hearth.storage.types import UTCDateTime


class ProfileQuestionRow(SQLModel, table=True):
    """One question of a community's questionnaire, with its options in order."""

    __tablename__ = "profile_question"

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    key: str = Field(max_length=12, primary_key=True)
    prompt: str = Field(max_length=200)
    multiple: bool = False
    options: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: int = 0
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class SqlProfileRepository(_Repository):
    """A community's questionnaire."""

    async def questions(self, community_id: int) -> list[ProfileQuestion] | None:
        """The questions asked, in order; None when the community never changed them."""
        rows = list(
            await self.session.scalars(
                select(ProfileQuestionRow)
                .where(col(ProfileQuestionRow.community_id) == community_id)
                .order_by(col(ProfileQuestionRow.position), col(ProfileQuestionRow.key))
            )
        )
        if not rows:
            return None
        return [_question(row) for row in rows if row.removed_at is None]

    async def save(
        self, community_id: int, questions: Sequence[ProfileQuestion], now: datetime
    ) -> None:
        """Store ``questions`` as the community's whole questionnaire, in this order."""
        table = ProfileQuestionRow
        known = set(
            await self.session.scalars(
                select(col(table.key)).where(col(table.community_id) == community_id)
            )
        )
        for position, question in enumerate(questions):
            values: dict[str, Any] = {
                "prompt": question.prompt,
                "multiple": question.multiple,
                "options": [[option.slug, option.label] for option in question.options],
                "position": position,
                "removed_at": None,
                "updated_at": now,
            }
            if question.key in known:
                await self.session.execute(
                    update(table)
                    .where(col(table.community_id) == community_id, col(table.key) == question.key)
                    .values(**values)
                )
            else:
                self.session.add(table(community_id=community_id, key=question.key, **values))
        kept = [question.key for question in questions]
        await self.session.execute(
            update(table)
            .where(
                col(table.community_id) == community_id,
                col(table.key).not_in(kept),
                col(table.removed_at).is_(None),
            )
            .values(removed_at=now, updated_at=now)
        )
        await self.session.flush()


def _question(row: ProfileQuestionRow) -> ProfileQuestion:
    options = tuple(
        ProfileOption(str(slug), str(label)) for slug, label in row.options if slug and label
    )
    return ProfileQuestion(row.key, row.prompt, options, row.multiple)
