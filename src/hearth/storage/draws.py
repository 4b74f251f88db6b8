"""The lucky draws' tables and repository. The repository never commits.

Entering, closing and cancelling each begin with one conditional update of the draw's row:
on PostgreSQL its row lock puts them one after another, so no entry slips in after the
winners were drawn or the refunds were made; SQLite serialises writers anyway.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Row,
    UniqueConstraint,
    exists,
    insert,
    select,
    update,
)
from sqlmodel import Field, SQLModel, col

from hearth.domain.activity import PARTICIPATION_KINDS
from hearth.domain.draws import Draw, DrawStatus, Entry, NewDraw
from hearth.storage import tables
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.tables import _utc
from hearth.storage.types import BigId


class DrawRow(SQLModel, table=True):
    """A lucky draw; its seed is recorded when the winners are drawn."""

    __tablename__ = "draw"
    __table_args__ = (
        CheckConstraint("winners >= 1", name="ck_draw_winners_positive"),
        CheckConstraint("cost >= 0", name="ck_draw_cost_not_negative"),
        Index("ix_draw_status_closes", "status", "closes_at"),
        Index("ix_draw_community_status", "community_id", "status"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    prize: str = Field(max_length=255)
    winners: int
    cost: int = 0
    min_tier: str | None = Field(default=None, max_length=32)
    active_days: int | None = None
    event_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("event.id", ondelete="SET NULL"), nullable=True),
    )
    closes_at: datetime = _utc()
    status: str = Field(default=DrawStatus.OPEN.value, max_length=16)
    seed: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    entries: int = 0
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _utc()
    settled_at: datetime | None = _utc(default=None, nullable=True)  # closed or cancelled


class DrawEntryRow(SQLModel, table=True):
    """One member's entry in a draw (at most one each), with what it cost then."""

    __tablename__ = "draw_entry"
    __table_args__ = (UniqueConstraint("draw_id", "member_id", name="uq_draw_entry"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    draw_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("draw.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    cost: int = 0
    rank: int | None = None  # 1, 2, …: the order the winners were drawn in; None: did not win
    entered_at: datetime = _utc()


_DRAW_COLUMNS = (
    col(DrawRow.id),
    col(DrawRow.community_id),
    col(DrawRow.prize),
    col(DrawRow.winners),
    col(DrawRow.cost),
    col(DrawRow.min_tier),
    col(DrawRow.active_days),
    col(DrawRow.event_id),
    col(DrawRow.closes_at),
    col(DrawRow.status),
    col(DrawRow.seed),
    col(DrawRow.entries),
)


def _draw(row: Row[*tuple[Any, ...]]) -> Draw:
    return Draw(
        id=int(row.id),
        community_id=int(row.community_id),
        prize=str(row.prize),
        winners=int(row.winners),
        cost=int(row.cost),
        min_tier=row.min_tier,
        active_days=None if row.active_days is None else int(row.active_days),
        event_id=None if row.event_id is None else int(row.event_id),
        closes_at=row.closes_at,
        status=DrawStatus(row.status),
        seed=None if row.seed is None else int(row.seed),
        entries=int(row.entries),
    )


class SqlDrawsRepository(_Repository):
    """Draws and their entries (reads map straight to domain values)."""

    async def add(
        self, community_id: int, draw: NewDraw, *, actor_id: int | None, now: datetime
    ) -> Draw:
        result = await self.session.execute(
            insert(DrawRow)
            .values(
                community_id=community_id,
                prize=draw.prize[:255],
                winners=draw.winners,
                cost=draw.cost,
                min_tier=draw.min_tier,
                active_days=draw.active_days,
                event_id=draw.event_id,
                closes_at=draw.closes_at,
                status=DrawStatus.OPEN.value,
                seed=None,
                entries=0,
                created_by=actor_id,
                created_at=now,
                settled_at=None,
            )
            .returning(*_DRAW_COLUMNS)
        )
        return _draw(result.one())

    async def get(self, draw_id: int) -> Draw | None:
        return await self._mapped(
            select(*_DRAW_COLUMNS).where(col(DrawRow.id) == draw_id),
            _draw,
        )

    async def open_in(self, community_id: int) -> list[Draw]:
        result = await self.session.execute(
            select(*_DRAW_COLUMNS)
            .where(
                col(DrawRow.community_id) == community_id,
                col(DrawRow.status) == DrawStatus.OPEN.value,
            )
            .order_by(col(DrawRow.closes_at), col(DrawRow.id))
        )
        return [_draw(row) for row in result]

    async def due(self, now: datetime, limit: int) -> list[int]:
        result = await self.session.execute(
            select(col(DrawRow.id))
            .where(col(DrawRow.status) == DrawStatus.OPEN.value, col(DrawRow.closes_at) <= now)
            .order_by(col(DrawRow.closes_at), col(DrawRow.id))
            .limit(limit)
        )
        return [int(row.id) for row in result]

    async def count_in(self, draw_id: int, now: datetime) -> Draw | None:
        # The conditional update is the lock: see the module's docstring.
        return await self._mapped(
            update(DrawRow)
            .where(
                col(DrawRow.id) == draw_id,
                col(DrawRow.status) == DrawStatus.OPEN.value,
                col(DrawRow.closes_at) > now,
            )
            .values(entries=col(DrawRow.entries) + 1)
            .returning(*_DRAW_COLUMNS)
            .execution_options(synchronize_session=False),
            _draw,
        )

    async def add_entry(self, draw_id: int, member_id: int, cost: int, now: datetime) -> bool:
        result = await self.session.execute(
            insert_ignoring_duplicates(self.dialect, DrawEntryRow)
            .values(draw_id=draw_id, member_id=member_id, cost=cost, rank=None, entered_at=now)
            .returning(col(DrawEntryRow.id))
        )
        return result.scalar_one_or_none() is not None

    async def entered(self, member_id: int, draw_ids: Collection[int]) -> set[int]:
        if not draw_ids:
            return set()
        result = await self.session.execute(
            select(col(DrawEntryRow.draw_id)).where(
                col(DrawEntryRow.member_id) == member_id,
                col(DrawEntryRow.draw_id).in_(list(draw_ids)),
            )
        )
        return {int(draw_id) for draw_id in result.scalars()}

    async def entries_of(self, draw_id: int) -> list[Entry]:
        result = await self.session.execute(
            select(col(DrawEntryRow.member_id), col(DrawEntryRow.cost), col(DrawEntryRow.rank))
            .where(col(DrawEntryRow.draw_id) == draw_id)
            .order_by(col(DrawEntryRow.member_id))
        )
        return [
            Entry(
                member_id=int(row.member_id),
                cost=int(row.cost),
                rank=None if row.rank is None else int(row.rank),
            )
            for row in result
        ]

    async def settle(self, draw_id: int, becomes: DrawStatus, now: datetime) -> Draw | None:
        return await self._mapped(
            update(DrawRow)
            .where(col(DrawRow.id) == draw_id, col(DrawRow.status) == DrawStatus.OPEN.value)
            .values(status=becomes.value, settled_at=now)
            .returning(*_DRAW_COLUMNS)
            .execution_options(synchronize_session=False),
            _draw,
        )

    async def record_result(self, draw_id: int, seed: int, winners: Sequence[int]) -> None:
        await self.session.execute(
            update(DrawRow)
            .where(col(DrawRow.id) == draw_id)
            .values(seed=seed)
            .execution_options(synchronize_session=False)
        )
        for rank, member_id in enumerate(winners, start=1):
            await self.session.execute(
                update(DrawEntryRow)
                .where(
                    col(DrawEntryRow.draw_id) == draw_id,
                    col(DrawEntryRow.member_id) == member_id,
                )
                .values(rank=rank)
                .execution_options(synchronize_session=False)
            )

    async def active_since(self, community_id: int, member_id: int, since: datetime) -> bool:
        found = await self.session.scalar(
            select(
                exists().where(
                    col(tables.Activity.community_id) == community_id,
                    col(tables.Activity.member_id) == member_id,
                    col(tables.Activity.kind).in_([kind.value for kind in PARTICIPATION_KINDS]),
                    col(tables.Activity.occurred_at) >= since,
                )
            )
        )
        return bool(found)
