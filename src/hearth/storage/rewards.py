"""The rewards store's tables and repository. The repository never commits.

Every change that competes with other members is one conditional statement (stock) or a
row claimed with ``FOR UPDATE SKIP LOCKED`` (voucher codes), so that concurrent redemptions
can neither oversell nor hand out a code twice, on SQLite and PostgreSQL alike.
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
    func,
    insert,
    or_,
    select,
    update,
)
from sqlmodel import Field, SQLModel, col

from hearth.domain.rewards import (
    NewReward,
    Redemption,
    RedemptionLine,
    RedemptionStatus,
    Reward,
)
from hearth.storage import tables
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.tables import _utc
from hearth.storage.types import BigId

_CODE_BATCH = 500  # rows per INSERT: well under SQLite's limit of bound parameters


class RewardRow(SQLModel, table=True):
    """Something members can redeem with points; archived rather than deleted."""

    __tablename__ = "reward"
    __table_args__ = (
        CheckConstraint("cost > 0", name="ck_reward_cost_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="ck_reward_stock_not_negative"),
        Index("ix_reward_community_active", "community_id", "active"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    title: str = Field(max_length=255)
    cost: int
    stock: int | None = None  # None: unlimited
    per_member_limit: int | None = None
    tier_required: str | None = Field(default=None, max_length=32)
    available_from: datetime | None = _utc(default=None, nullable=True)
    available_until: datetime | None = _utc(default=None, nullable=True)
    has_codes: bool = False
    active: bool = True
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _utc()
    archived_at: datetime | None = _utc(default=None, nullable=True)


class RedemptionRow(SQLModel, table=True):
    """A member's redemption; its idempotency key makes a replayed confirmation a no-op."""

    __tablename__ = "redemption"
    __table_args__ = (
        Index("ix_redemption_reward_member", "reward_id", "member_id"),
        Index("ix_redemption_community_status", "community_id", "status", "created_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    reward_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("reward.id", ondelete="CASCADE"), nullable=False)
    )
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    cost: int
    status: str = Field(default=RedemptionStatus.PENDING.value, max_length=16)
    code: str | None = Field(default=None, max_length=64)
    idempotency_key: str = Field(max_length=200, unique=True)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class VoucherCodeRow(SQLModel, table=True):
    """One code of a reward's pool; taken by at most one redemption at a time."""

    __tablename__ = "voucher_code"
    __table_args__ = (
        UniqueConstraint("reward_id", "code", name="uq_voucher_code"),
        Index("ix_voucher_code_free", "reward_id", "redemption_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    reward_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("reward.id", ondelete="CASCADE"), nullable=False)
    )
    code: str = Field(max_length=64)
    redemption_id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger, ForeignKey("redemption.id", ondelete="SET NULL"), nullable=True
        ),
    )


_REWARD_COLUMNS = (
    col(RewardRow.id),
    col(RewardRow.community_id),
    col(RewardRow.title),
    col(RewardRow.cost),
    col(RewardRow.stock),
    col(RewardRow.per_member_limit),
    col(RewardRow.tier_required),
    col(RewardRow.available_from),
    col(RewardRow.available_until),
    col(RewardRow.has_codes),
    col(RewardRow.active),
)

_REDEMPTION_COLUMNS = (
    col(RedemptionRow.id),
    col(RedemptionRow.reward_id),
    col(RedemptionRow.community_id),
    col(RedemptionRow.member_id),
    col(RedemptionRow.cost),
    col(RedemptionRow.status),
    col(RedemptionRow.code),
    col(RedemptionRow.created_at),
)


def _reward(row: Row[*tuple[Any, ...]]) -> Reward:
    return Reward(
        id=int(row.id),
        community_id=int(row.community_id),
        title=str(row.title),
        cost=int(row.cost),
        stock=None if row.stock is None else int(row.stock),
        per_member_limit=None if row.per_member_limit is None else int(row.per_member_limit),
        tier_required=row.tier_required,
        available_from=row.available_from,
        available_until=row.available_until,
        has_codes=bool(row.has_codes),
        active=bool(row.active),
    )


def _redemption(row: Row[*tuple[Any, ...]]) -> Redemption:
    return Redemption(
        id=int(row.id),
        reward_id=int(row.reward_id),
        community_id=int(row.community_id),
        member_id=int(row.member_id),
        cost=int(row.cost),
        status=RedemptionStatus(row.status),
        code=row.code,
        created_at=row.created_at,
    )


class SqlRewardsRepository(_Repository):
    """Rewards, their voucher codes and redemptions (reads map straight to domain values)."""

    # -- rewards

    async def add(
        self, community_id: int, reward: NewReward, *, actor_id: int | None, now: datetime
    ) -> Reward:
        result = await self.session.execute(
            insert(RewardRow)
            .values(
                community_id=community_id,
                title=reward.title[:255],
                cost=reward.cost,
                stock=reward.stock,
                per_member_limit=reward.per_member_limit,
                tier_required=reward.tier_required,
                available_from=reward.available_from,
                available_until=reward.available_until,
                has_codes=reward.has_codes,
                active=True,
                created_by=actor_id,
                created_at=now,
            )
            .returning(*_REWARD_COLUMNS)
        )
        return _reward(result.one())

    async def get(self, reward_id: int) -> Reward | None:
        return await self._mapped(
            select(*_REWARD_COLUMNS).where(col(RewardRow.id) == reward_id),
            _reward,
        )

    async def active(self, community_id: int) -> list[Reward]:
        result = await self.session.execute(
            select(*_REWARD_COLUMNS)
            .where(col(RewardRow.community_id) == community_id, col(RewardRow.active).is_(True))
            .order_by(col(RewardRow.cost), col(RewardRow.id))
        )
        return [_reward(row) for row in result]

    async def archive(self, reward_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(RewardRow)
            .where(col(RewardRow.id) == reward_id, col(RewardRow.active).is_(True))
            .values(active=False, archived_at=now)
            .returning(col(RewardRow.id))
            .execution_options(synchronize_session=False)
        )
        return result.scalar_one_or_none() is not None

    async def take_one(self, reward_id: int) -> Reward | None:
        stock = col(RewardRow.stock)
        # One conditional statement, atomic on both databases. NULL - 1 stays NULL, so an
        # unlimited reward stays unlimited, yet its row is still locked on PostgreSQL: the
        # redemptions of one reward run one after another until each commits.
        return await self._mapped(
            update(RewardRow)
            .where(
                col(RewardRow.id) == reward_id,
                col(RewardRow.active).is_(True),
                or_(stock.is_(None), stock >= 1),
            )
            .values(stock=stock - 1)
            .returning(*_REWARD_COLUMNS)
            .execution_options(synchronize_session=False),
            _reward,
        )

    async def put_back(self, reward_id: int) -> None:
        stock = col(RewardRow.stock)
        await self.session.execute(
            update(RewardRow)
            .where(col(RewardRow.id) == reward_id, stock.is_not(None))
            .values(stock=stock + 1)
            .execution_options(synchronize_session=False)
        )

    # -- voucher codes

    async def add_codes(self, reward_id: int, codes: Sequence[str]) -> int:
        added = 0
        for start in range(0, len(codes), _CODE_BATCH):
            rows = [
                {"reward_id": reward_id, "code": code, "redemption_id": None}
                for code in codes[start : start + _CODE_BATCH]
            ]
            result = await self.session.execute(
                insert_ignoring_duplicates(self.dialect, VoucherCodeRow)
                .values(rows)
                .returning(col(VoucherCodeRow.id))
            )
            added += len(result.all())
        await self.session.execute(
            update(RewardRow)
            .where(col(RewardRow.id) == reward_id)
            .values(has_codes=True)
            .execution_options(synchronize_session=False)
        )
        return added

    async def codes_left(self, reward_ids: Collection[int]) -> dict[int, int]:
        if not reward_ids:
            return {}
        result = await self.session.execute(
            select(col(VoucherCodeRow.reward_id), func.count())
            .where(
                col(VoucherCodeRow.reward_id).in_(list(reward_ids)),
                col(VoucherCodeRow.redemption_id).is_(None),
            )
            .group_by(col(VoucherCodeRow.reward_id))
        )
        left = {int(row[0]): int(row[1]) for row in result}
        return {reward_id: left.get(reward_id, 0) for reward_id in reward_ids}

    async def take_code(self, reward_id: int, redemption_id: int) -> str | None:
        statement = (
            select(col(VoucherCodeRow.id), col(VoucherCodeRow.code))
            .where(
                col(VoucherCodeRow.reward_id) == reward_id,
                col(VoucherCodeRow.redemption_id).is_(None),
            )
            .order_by(col(VoucherCodeRow.id))
            .limit(1)
        )
        if self.dialect == "postgresql":
            # Concurrent takers skip each other's row instead of queueing for it. SQLite
            # needs nothing: its writers are serialised by BEGIN IMMEDIATE.
            statement = statement.with_for_update(skip_locked=True)
        row = (await self.session.execute(statement)).one_or_none()
        if row is None:
            return None
        await self.session.execute(
            update(VoucherCodeRow)
            .where(col(VoucherCodeRow.id) == row.id)
            .values(redemption_id=redemption_id)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(RedemptionRow)
            .where(col(RedemptionRow.id) == redemption_id)
            .values(code=row.code)
            .execution_options(synchronize_session=False)
        )
        return str(row.code)

    async def release_code(self, redemption_id: int) -> None:
        await self.session.execute(
            update(VoucherCodeRow)
            .where(col(VoucherCodeRow.redemption_id) == redemption_id)
            .values(redemption_id=None)
            .execution_options(synchronize_session=False)
        )

    # -- redemptions

    async def claim(
        self,
        reward: Reward,
        member_id: int,
        *,
        key: str,
        now: datetime,
    ) -> int | None:
        result = await self.session.execute(
            insert_ignoring_duplicates(self.dialect, RedemptionRow)
            .values(
                reward_id=reward.id,
                community_id=reward.community_id,
                member_id=member_id,
                cost=reward.cost,
                status=RedemptionStatus.PENDING.value,
                code=None,
                idempotency_key=key[:200],
                created_at=now,
                updated_at=now,
                actor_id=None,
            )
            .returning(col(RedemptionRow.id))
        )
        new_id = result.scalar_one_or_none()
        return int(new_id) if new_id is not None else None

    async def redemption(self, redemption_id: int) -> Redemption | None:
        return await self._mapped(
            select(*_REDEMPTION_COLUMNS).where(col(RedemptionRow.id) == redemption_id),
            _redemption,
        )

    async def redemption_by_key(self, key: str) -> Redemption | None:
        return await self._mapped(
            select(*_REDEMPTION_COLUMNS).where(col(RedemptionRow.idempotency_key) == key[:200]),
            _redemption,
        )

    async def redeemed_counts(self, member_id: int, reward_ids: Collection[int]) -> dict[int, int]:
        if not reward_ids:
            return {}
        result = await self.session.execute(
            select(col(RedemptionRow.reward_id), func.count())
            .where(
                col(RedemptionRow.member_id) == member_id,
                col(RedemptionRow.reward_id).in_(list(reward_ids)),
                col(RedemptionRow.status) != RedemptionStatus.CANCELLED.value,
            )
            .group_by(col(RedemptionRow.reward_id))
        )
        counted = {int(row[0]): int(row[1]) for row in result}
        return {reward_id: counted.get(reward_id, 0) for reward_id in reward_ids}

    async def change_status(
        self,
        redemption_id: int,
        *,
        was: RedemptionStatus,
        becomes: RedemptionStatus,
        actor_id: int,
        now: datetime,
    ) -> Redemption | None:
        # Conditional on the old status: of two operators pressing at once, one wins.
        return await self._mapped(
            update(RedemptionRow)
            .where(col(RedemptionRow.id) == redemption_id, col(RedemptionRow.status) == was.value)
            .values(status=becomes.value, actor_id=actor_id, updated_at=now)
            .returning(*_REDEMPTION_COLUMNS)
            .execution_options(synchronize_session=False),
            _redemption,
        )

    async def pending(self, community_ids: Collection[int], limit: int) -> list[RedemptionLine]:
        if not community_ids:
            return []
        result = await self.session.execute(
            select(*_REDEMPTION_COLUMNS, col(RewardRow.title), col(tables.Member.first_name))
            .join(RewardRow, col(RewardRow.id) == col(RedemptionRow.reward_id))
            .join(tables.Member, col(tables.Member.id) == col(RedemptionRow.member_id))
            .where(
                col(RedemptionRow.community_id).in_(list(community_ids)),
                col(RedemptionRow.status) == RedemptionStatus.PENDING.value,
            )
            .order_by(col(RedemptionRow.created_at), col(RedemptionRow.id))
            .limit(limit)
        )
        return [
            RedemptionLine(
                redemption=_redemption(row),
                reward_title=str(row.title),
                member_name=str(row.first_name),
            )
            for row in result
        ]

    async def count_pending(self, community_ids: Collection[int]) -> int:
        if not community_ids:
            return 0
        value = await self.session.scalar(
            select(func.count()).where(
                col(RedemptionRow.community_id).in_(list(community_ids)),
                col(RedemptionRow.status) == RedemptionStatus.PENDING.value,
            )
        )
        return int(value or 0)
