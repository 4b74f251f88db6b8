"""The engagement tables (membership_stage, stage_change) and repository. It never commits.

Every figure the lifecycle and RFM rules need is aggregated in SQL, a few GROUP BY queries
per community: activity is first reduced to one row per (member, active local day), then
to one row per member, outer-joined to the memberships. ``local_day`` is already the
community's local day, and the window boundaries are computed in Python and bound as
dates, so the same statements run on SQLite and PostgreSQL (no date arithmetic in SQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Row,
    Subquery,
    UniqueConstraint,
    and_,
    case,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col

from hearth.domain.activity import PARTICIPATION_KINDS
from hearth.domain.calendar import start_of_local_day
from hearth.domain.engagement import MemberFacts, MemberStanding
from hearth.domain.lifecycle import LifecycleRules, MemberActivity, Stage, StageChange, StageState
from hearth.domain.points import CREDIT_KINDS
from hearth.domain.rewards import RedemptionStatus
from hearth.domain.rfm import RFM_WINDOW_DAYS, RfmFacts
from hearth.storage import tables
from hearth.storage.events import AttendanceRow, EventRow
from hearth.storage.repositories import (
    _as_date,
    _Repository,
    _table,
    insert_ignoring_duplicates,
)
from hearth.storage.rewards import RedemptionRow
from hearth.storage.types import BigId


class MembershipStageRow(SQLModel, table=True):
    """A membership's current stage (with hysteresis state), RFM scores, segment and tags."""

    __tablename__ = "membership_stage"
    __table_args__ = (
        Index("ix_membership_stage_stage", "community_id", "stage"),
        Index("ix_membership_stage_segment", "community_id", "segment"),
    )

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    stage: str = Field(max_length=16)
    since: date  # local day the stage took effect
    demotion_pending_since: date | None = None  # local day a pending demotion was first read
    computed_on: date  # local day of the last recompute
    recency_score: int | None = None  # RFM scores 1–5; None for members who left
    frequency_score: int | None = None
    value_score: int | None = None
    recency_days: int | None = None  # days since the last active day; None: none in 90 days
    segment: str | None = Field(default=None, max_length=24)
    high_value: bool = False
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class StageChangeRow(SQLModel, table=True):
    """A move between stages on a local day: cohorts, promotion rates, time to churn."""

    __tablename__ = "stage_change"
    __table_args__ = (
        UniqueConstraint(
            "community_id", "member_id", "changed_on", "new_stage", name="uq_stage_change"
        ),
        Index("ix_stage_change_community_day", "community_id", "changed_on"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    old_stage: str | None = Field(default=None, max_length=16)  # None: the first stage
    new_stage: str = Field(max_length=16)
    changed_on: date


_PARTICIPATION = sorted(kind.value for kind in PARTICIPATION_KINDS)
_CREDITS = sorted(kind.value for kind in CREDIT_KINDS)


def summary_horizon(rules: LifecycleRules) -> int:
    """How many local days (today included) of activity the stage rules can see.

    Activity older than this cannot change a stage: whoever was last active before it has
    been idle at least ``churned_days``, which reads the same without the old activity.
    """
    return max(
        rules.churned_days,
        rules.recent_days + rules.baseline_days,
        7 * rules.mature_window_weeks,
    )


class SqlEngagementRepository(_Repository):
    """Aggregates for the lifecycle and RFM rules, and the stored standings."""

    async def member_facts(
        self, community_id: int, today: date, timezone: str, rules: LifecycleRules
    ) -> list[MemberFacts]:
        """Every membership of the community (current or not), with its activity as of
        ``today`` and, for current members, its RFM inputs; ordered by member id.

        One statement, one pass over the activity: active days per member over the rules'
        horizon (and the RFM window), reduced to the counts of ``MemberActivity`` and
        ``RfmFacts``; value is points earned (credits) + events attended + redemptions
        not cancelled, each summed per member over the RFM window's UTC instants. All
        outer-joined to the memberships. Join and leave instants become local days in
        ``timezone``.
        """
        recent_first = today - timedelta(days=rules.recent_days - 1)
        baseline_first = recent_first - timedelta(days=rules.baseline_days)
        rfm_first = today - timedelta(days=RFM_WINDOW_DAYS - 1)
        horizon_first = min(today - timedelta(days=summary_horizon(rules) - 1), rfm_first)
        days = self._active_days(community_id, horizon_first, today)
        day = days.c.day
        # the 7-day week a day falls in, 0 = the week ending today; NULL before the window
        week = case(
            *[
                (day >= today - timedelta(days=7 * index + 6), index)
                for index in range(rules.mature_window_weeks)
            ]
        )
        per_member = (
            select(
                days.c.member_id,
                func.max(day).label("last_active_on"),
                _count_days(day >= recent_first).label("recent"),
                _count_days(and_(day >= baseline_first, day < recent_first)).label("baseline"),
                func.count(func.distinct(week)).label("weeks"),
                func.max(case((day >= rfm_first, day))).label("rfm_last_active_on"),
                _count_days(day >= rfm_first).label("frequency"),
            )
            .group_by(days.c.member_id)
            .subquery("per_member")
        )
        values = self._values(
            community_id,
            start_of_local_day(rfm_first, timezone),
            start_of_local_day(today + timedelta(days=1), timezone),
        )
        membership = tables.Membership
        member = col(membership.member_id)
        statement = select(
            member,
            col(membership.joined_at),
            col(membership.left_at),
            per_member.c.last_active_on,
            per_member.c.recent,
            per_member.c.baseline,
            per_member.c.weeks,
            per_member.c.rfm_last_active_on,
            per_member.c.frequency,
            *[value.c.amount for value in values],
        ).outerjoin(per_member, per_member.c.member_id == member)
        for value in values:
            statement = statement.outerjoin(value, value.c.member_id == member)
        result = await self.session.execute(
            statement.where(col(membership.community_id) == community_id).order_by(member)
        )
        zone = ZoneInfo(timezone)
        return [_member_facts(row, zone) for row in result]

    def _active_days(self, community_id: int, first: date, last: date) -> Subquery:
        """One row per (member, local day) with participation between first and last."""
        day = col(tables.Activity.local_day)
        member = col(tables.Activity.member_id)
        return (
            select(member.label("member_id"), day.label("day"))
            .where(
                col(tables.Activity.community_id) == community_id,
                day >= first,
                day <= last,
                col(tables.Activity.kind).in_(_PARTICIPATION),
            )
            .group_by(member, day)
            .subquery("active_day")
        )

    def _values(self, community_id: int, start: datetime, end: datetime) -> list[Subquery]:
        """Per member: points earned, events attended, redemptions, from ``start`` to ``end``."""
        points_member = col(tables.PointsEntry.member_id)
        created = col(tables.PointsEntry.created_at)
        earned = (
            select(
                points_member.label("member_id"),
                func.sum(col(tables.PointsEntry.amount)).label("amount"),
            )
            .where(
                col(tables.PointsEntry.community_id) == community_id,
                col(tables.PointsEntry.kind).in_(_CREDITS),
                created >= start,
                created < end,
            )
            .group_by(points_member)
            .subquery("earned")
        )
        attended_member = col(AttendanceRow.member_id)
        checked_in = col(AttendanceRow.checked_in_at)
        attended = (
            select(attended_member.label("member_id"), func.count().label("amount"))
            .join(EventRow, col(EventRow.id) == col(AttendanceRow.event_id))
            .where(
                col(EventRow.community_id) == community_id,
                checked_in >= start,
                checked_in < end,
            )
            .group_by(attended_member)
            .subquery("attended")
        )
        redeemed_member = col(RedemptionRow.member_id)
        redeemed_at = col(RedemptionRow.created_at)
        redeemed = (
            select(redeemed_member.label("member_id"), func.count().label("amount"))
            .where(
                col(RedemptionRow.community_id) == community_id,
                col(RedemptionRow.status) != RedemptionStatus.CANCELLED.value,
                redeemed_at >= start,
                redeemed_at < end,
            )
            .group_by(redeemed_member)
            .subquery("redeemed")
        )
        return [earned, attended, redeemed]

    async def stage_states(self, community_id: int) -> dict[int, StageState]:
        """The stored stage of every membership that has one."""
        result = await self.session.execute(
            select(
                col(MembershipStageRow.member_id),
                col(MembershipStageRow.stage),
                col(MembershipStageRow.since),
                col(MembershipStageRow.demotion_pending_since),
            ).where(col(MembershipStageRow.community_id) == community_id)
        )
        return {
            int(row[0]): StageState(
                stage=Stage(row[1]),
                since=_as_date(row[2]),
                demotion_pending_since=None if row[3] is None else _as_date(row[3]),
            )
            for row in result
        }

    async def last_computed_on(self, community_id: int) -> date | None:
        """The local day of the community's latest recompute; None if never."""
        value = await self.session.scalar(
            select(func.max(col(MembershipStageRow.computed_on))).where(
                col(MembershipStageRow.community_id) == community_id
            )
        )
        return None if value is None else _as_date(value)

    async def save_standings(
        self, community_id: int, today: date, standings: Sequence[MemberStanding]
    ) -> None:
        """Insert or replace the standings (one executemany upsert on (community, member))."""
        rows = [_standing_row(community_id, today, standing) for standing in standings]
        if not rows:
            return
        module: Any = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(_table(MembershipStageRow))  # Core: one executemany
        excluded = statement.excluded
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["community_id", "member_id"],
                set_={name: excluded[name] for name in _UPDATED},
            ),
            rows,
        )

    async def add_changes(
        self, community_id: int, changes: Sequence[tuple[int, StageChange]]
    ) -> None:
        """Record stage changes (member id, change); a change recorded before is skipped."""
        rows = [
            {
                "community_id": community_id,
                "member_id": member_id,
                "old_stage": None if change.old is None else change.old.value,
                "new_stage": change.new.value,
                "changed_on": change.on,
            }
            for member_id, change in changes
        ]
        if rows:
            await self.session.execute(
                insert_ignoring_duplicates(self.dialect, StageChangeRow), rows
            )

    async def changes(self, community_id: int, member_id: int) -> list[StageChange]:
        """A member's stage changes, oldest first."""
        result = await self.session.execute(
            select(
                col(StageChangeRow.old_stage),
                col(StageChangeRow.new_stage),
                col(StageChangeRow.changed_on),
            )
            .where(
                col(StageChangeRow.community_id) == community_id,
                col(StageChangeRow.member_id) == member_id,
            )
            .order_by(col(StageChangeRow.changed_on), col(StageChangeRow.id))
        )
        return [
            StageChange(
                old=None if row[0] is None else Stage(row[0]),
                new=Stage(row[1]),
                on=_as_date(row[2]),
            )
            for row in result
        ]


_UPDATED = (
    "stage",
    "since",
    "demotion_pending_since",
    "computed_on",
    "recency_score",
    "frequency_score",
    "value_score",
    "recency_days",
    "segment",
    "high_value",
    "tags",
)


def _standing_row(community_id: int, today: date, standing: MemberStanding) -> dict[str, Any]:
    rfm = standing.rfm
    return {
        "community_id": community_id,
        "member_id": standing.member_id,
        "stage": standing.state.stage.value,
        "since": standing.state.since,
        "demotion_pending_since": standing.state.demotion_pending_since,
        "computed_on": today,
        "recency_score": None if rfm is None else rfm.recency,
        "frequency_score": None if rfm is None else rfm.frequency,
        "value_score": None if rfm is None else rfm.value,
        "recency_days": None if rfm is None else rfm.recency_days,
        "segment": None if rfm is None else rfm.segment.value,
        "high_value": rfm is not None and rfm.high_value,
        "tags": list(standing.tags),
    }


def _count_days(condition: Any) -> Any:
    """How many of a member's active days meet ``condition``."""
    return func.sum(case((condition, 1), else_=0))


def _member_facts(row: Row[*tuple[Any, ...]], zone: ZoneInfo) -> MemberFacts:
    member_id = int(row[0])
    left_on = None if row.left_at is None else _local(row.left_at, zone)
    activity = MemberActivity(
        joined_on=_local(row.joined_at, zone),
        left_on=left_on,
        last_active_on=None if row.last_active_on is None else _as_date(row.last_active_on),
        active_days_recent=int(row.recent or 0),
        active_days_baseline=int(row.baseline or 0),
        active_weeks=int(row.weeks or 0),
    )
    if row.left_at is not None:
        return MemberFacts(member_id, activity, None)
    rfm = RfmFacts(
        member_id=member_id,
        last_active_on=None if row.rfm_last_active_on is None else _as_date(row.rfm_last_active_on),
        frequency=int(row.frequency or 0),
        value=sum(int(amount or 0) for amount in row[9:]),
    )
    return MemberFacts(member_id, activity, rfm)


def _local(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()
