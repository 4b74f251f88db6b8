"""The feedback box's table and repository. The repository never commits.

An item's natural key is the private message that carried it (member × message id): a
re-delivered message stores nothing twice. Answering and closing are conditional on the
item still being open, so that of two operators pressing at once exactly one wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Row,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlmodel import Field, SQLModel, col

from hearth.domain.feedback import FeedbackDraft, FeedbackItem, FeedbackLine, FeedbackStatus
from hearth.storage import tables
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.tables import _utc
from hearth.storage.types import BigId


class FeedbackItemRow(SQLModel, table=True):
    """What a member told the team through /feedback, and the operators' answer."""

    __tablename__ = "feedback_item"
    __table_args__ = (
        UniqueConstraint("member_id", "message_id", name="uq_feedback_item_source"),
        Index("ix_feedback_item_inbox", "community_id", "status", "created_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    photo: str | None = Field(default=None, max_length=255)  # Telegram file id
    status: str = Field(default=FeedbackStatus.OPEN.value, max_length=16)
    created_at: datetime = _utc()
    reply: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    settled_at: datetime | None = _utc(default=None, nullable=True)
    settled_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


_COLUMNS = (
    col(FeedbackItemRow.id),
    col(FeedbackItemRow.community_id),
    col(FeedbackItemRow.member_id),
    col(FeedbackItemRow.text),
    col(FeedbackItemRow.photo),
    col(FeedbackItemRow.status),
    col(FeedbackItemRow.created_at),
    col(FeedbackItemRow.reply),
)


def _item(row: Row[*tuple[Any, ...]]) -> FeedbackItem:
    return FeedbackItem(
        id=int(row.id),
        community_id=int(row.community_id),
        member_id=int(row.member_id),
        text=row.text,
        photo=row.photo,
        status=FeedbackStatus(row.status),
        created_at=row.created_at,
        reply=row.reply,
    )


class SqlFeedbackBoxRepository(_Repository):
    """Feedback items, newest first for the operators' inbox."""

    async def add(
        self, community_id: int, member_id: int, draft: FeedbackDraft, now: datetime
    ) -> FeedbackItem | None:
        return await self._mapped(
            insert_ignoring_duplicates(self.dialect, FeedbackItemRow)
            .values(
                community_id=community_id,
                member_id=member_id,
                message_id=draft.message_id,
                text=draft.text,
                photo=draft.photo,
                status=FeedbackStatus.OPEN.value,
                created_at=now,
            )
            .returning(*_COLUMNS),
            _item,
        )

    async def by_message(self, member_id: int, message_id: int) -> FeedbackItem | None:
        return await self._mapped(
            select(*_COLUMNS).where(
                col(FeedbackItemRow.member_id) == member_id,
                col(FeedbackItemRow.message_id) == message_id,
            ),
            _item,
        )

    async def get(self, item_id: int) -> FeedbackItem | None:
        return await self._mapped(
            select(*_COLUMNS).where(col(FeedbackItemRow.id) == item_id), _item
        )

    async def sent_since(self, member_id: int, since: datetime) -> list[datetime]:
        result = await self.session.scalars(
            select(col(FeedbackItemRow.created_at)).where(
                col(FeedbackItemRow.member_id) == member_id,
                col(FeedbackItemRow.created_at) > since,
            )
        )
        return list(result)

    async def open_items(self, community_id: int, offset: int, limit: int) -> list[FeedbackLine]:
        result = await self.session.execute(
            select(*_COLUMNS, col(tables.Member.first_name))
            .join(tables.Member, col(tables.Member.id) == col(FeedbackItemRow.member_id))
            .where(
                col(FeedbackItemRow.community_id) == community_id,
                col(FeedbackItemRow.status) == FeedbackStatus.OPEN.value,
            )
            .order_by(col(FeedbackItemRow.created_at).desc(), col(FeedbackItemRow.id).desc())
            .offset(offset)
            .limit(limit)
        )
        return [FeedbackLine(item=_item(row), member_name=str(row.first_name)) for row in result]

    async def count_open(self, community_id: int) -> int:
        value = await self.session.scalar(
            select(func.count()).where(
                col(FeedbackItemRow.community_id) == community_id,
                col(FeedbackItemRow.status) == FeedbackStatus.OPEN.value,
            )
        )
        return int(value or 0)

    async def settle(
        self,
        item_id: int,
        *,
        becomes: FeedbackStatus,
        reply: str | None,
        actor_id: int,
        now: datetime,
    ) -> FeedbackItem | None:
        # Conditional on the item being open: of two operators at once, one wins.
        return await self._mapped(
            update(FeedbackItemRow)
            .where(
                col(FeedbackItemRow.id) == item_id,
                col(FeedbackItemRow.status) == FeedbackStatus.OPEN.value,
            )
            .values(status=becomes.value, reply=reply, settled_at=now, settled_by=actor_id)
            .returning(*_COLUMNS)
            .execution_options(synchronize_session=False),
            _item,
        )
