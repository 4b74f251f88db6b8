"""The engagement tables (membership_stage, stage_change, member_day) and repository. It
never commits.

Every figure the lifecycle and RFM rules need is aggregated in SQL, one statement per
community. Activity is first rolled up into ``member_day``, one row per (community, member,
local day with participation), kept up to date incrementally by the recompute itself; the
statement then reads that small, key-ordered table, one pass per member, outer-joined to
the memberships. Local days are stored there as integers (``date.toordinal()``) and the
window boundaries are computed in Python and bound as integers, so the same statement runs
on SQLite and PostgreSQL and compares integers, not dates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Insert,
    Integer,
    Row,
    Subquery,
    UniqueConstraint,
    case,
    func,
    select,
    type_coerce,
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

_EPOCH = date(2000, 1, 1)


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
    segment_since: date | None = None  # local day the member entered the segment
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


class MemberDayRow(SQLModel, table=True):
    """Roll-up of ``activity``: a member took part in a community on a local day.

    Derived data, written only by ``SqlEngagementRepository.refresh_member_days`` (the
    recompute calls it first): the lifecycle aggregate reads these rows, in key order,
    instead of grouping millions of activity rows. ``day`` is the local day as
    ``date.toordinal()``. Without a rowid on SQLite: the primary key is the table.
    """

    __tablename__ = "member_day"
    __table_args__ = {"sqlite_with_rowid": False}

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    day: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))


class MemberDayRollupRow(SQLModel, table=True):
    """How far a community's ``member_day`` roll-up has read ``activity``."""

    __tablename__ = "member_day_rollup"

    community_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("community.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    through_day: int  # the latest local day (``date.toordinal()``) of the activity read


# Each refresh of the roll-up reads again the activity of this many local days before the
# latest one it read: rows written late (Telegram re-delivers updates for up to a day,
# the activity buffer retries a failed batch) are still rolled up. Only activity written
# more than this many days after its local day would be missed.
ROLLUP_MARGIN_DAYS = 3

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
        ``today`` and, for current members, its RFM inputs and tier; ordered by member id.

        Brings the ``member_day`` roll-up up to date first (``refresh_member_days``), then
        one statement: the member's active days over the rules' horizon (and the RFM
        window), counted per window from ``member_day`` in one key-ordered pass; value is
        points earned (credits) + events attended + redemptions not cancelled, each summed
        per member over the RFM window's UTC instants. All outer-joined to the memberships.
        Join and leave instants become local days in ``timezone``.
        """
        await self.refresh_member_days(community_id)
        last = today.toordinal()
        recent_first = last - (rules.recent_days - 1)
        baseline_first = recent_first - rules.baseline_days
        weeks_first = last - (7 * rules.mature_window_weeks - 1)
        rfm_first = last - (RFM_WINDOW_DAYS - 1)
        horizon_first = min(last - (summary_horizon(rules) - 1), rfm_first)
        day = col(MemberDayRow.day)
        per_member = (
            select(
                col(MemberDayRow.member_id).label("member_id"),
                func.max(day).label("last_active"),
                _count_days(day >= recent_first).label("recent"),
                # the baseline is the days from its first on, less the recent ones
                _count_days(day >= baseline_first).label("from_baseline"),
                # distinct 7-day weeks, 0 = the week ending today; NULL before the window
                func.count(func.distinct(case((day >= weeks_first, (last - day) // 7)))).label(
                    "weeks"
                ),
                (
                    func.count() if horizon_first >= rfm_first else _count_days(day >= rfm_first)
                ).label("frequency"),
            )
            .where(
                col(MemberDayRow.community_id) == community_id,
                day >= horizon_first,
                day <= last,
            )
            .group_by(col(MemberDayRow.member_id))
            .subquery("per_member")
        )
        values = self._values(
            community_id,
            start_of_local_day(today - timedelta(days=RFM_WINDOW_DAYS - 1), timezone),
            start_of_local_day(today + timedelta(days=1), timezone),
        )
        membership = tables.Membership
        member = col(membership.member_id)
        statement = select(
            member,
            col(membership.joined_at),
            col(membership.left_at),
            col(membership.tier),
            per_member.c.last_active,
            per_member.c.recent,
            per_member.c.from_baseline,
            per_member.c.weeks,
            per_member.c.frequency,
            _total(value.c.amount for value in values).label("value"),
        ).outerjoin(per_member, per_member.c.member_id == member)
        for value in values:
            statement = statement.outerjoin(value, value.c.member_id == member)
        connection = await self.session.connection()  # Core rows: no ORM per-row work
        result = await connection.execute(
            statement.where(col(membership.community_id) == community_id).order_by(member)
        )
        zone = ZoneInfo(timezone)
        return [_member_facts(row, zone, rfm_first) for row in result]

    async def refresh_member_days(self, community_id: int) -> None:
        """Roll the community's activity up into ``member_day``: one row per member and local
        day with participation. The first time, all of it; after that, the activity from
        ``ROLLUP_MARGIN_DAYS`` before the latest local day the last refresh read (rows
        already there are skipped), so a daily refresh reads about a day's activity.
        """
        through = await self.session.scalar(
            select(col(MemberDayRollupRow.through_day)).where(
                col(MemberDayRollupRow.community_id) == community_id
            )
        )
        activity = tables.Activity
        local_day = col(activity.local_day)
        in_community = col(activity.community_id) == community_id
        source = (
            select(col(activity.community_id), col(activity.member_id), self._ordinal(local_day))
            .where(in_community, col(activity.kind).in_(_PARTICIPATION))
            .distinct()
        )
        if through is not None:
            source = source.where(local_day >= date.fromordinal(through - ROLLUP_MARGIN_DAYS))
        rollup: Insert = insert_ignoring_duplicates(self.dialect, MemberDayRow)
        await self.session.execute(rollup.from_select(["community_id", "member_id", "day"], source))
        # the index on (community, local day) makes this a single lookup
        latest = await self.session.scalar(select(func.max(local_day)).where(in_community))
        if latest is None:
            return
        module: Any = postgresql if self.dialect == "postgresql" else sqlite
        mark = module.insert(_table(MemberDayRollupRow)).values(
            community_id=community_id, through_day=_as_date(latest).toordinal()
        )
        await self.session.execute(
            mark.on_conflict_do_update(
                index_elements=["community_id"], set_={"through_day": mark.excluded.through_day}
            )
        )

    def _ordinal(self, local_day: Any) -> Any:
        """SQL for ``local_day.toordinal()``: days since 31 December of the year 0."""
        if self.dialect == "postgresql":
            # (asyncpg sends date.min as -infinity: count from a later day of known ordinal)
            return type_coerce(local_day - _EPOCH, Integer) + _EPOCH.toordinal()
        # julianday of 0001-01-01 is 1721425.5
        return func.cast(func.julianday(local_day) - 1721424.5, Integer)

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
        if not standings:
            return
        module: Any = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(_table(MembershipStageRow))  # Core: one executemany
        excluded = statement.excluded
        upsert = statement.on_conflict_do_update(
            index_elements=["community_id", "member_id"],
            set_={name: excluded[name] for name in _UPDATED},
        )
        if self.dialect == "sqlite":
            tags: dict[tuple[str, ...], str] = {}  # as JSON text, by tags: a handful
            rows = [
                _sqlite_standing(community_id, today.isoformat(), standing, tags)
                for standing in standings
            ]
        else:
            rows = [_standing(community_id, today, standing) for standing in standings]
        await self._execute_many(upsert, _STANDING_COLUMNS, rows)

    async def add_changes(
        self, community_id: int, changes: Sequence[tuple[int, StageChange]]
    ) -> None:
        """Record stage changes (member id, change); a change recorded before is skipped."""
        if not changes:
            return
        sqlite_days = self.dialect == "sqlite"
        rows = [
            (
                community_id,
                member_id,
                None if change.old is None else change.old.value,
                change.new.value,
                change.on.isoformat() if sqlite_days else change.on,
            )
            for member_id, change in changes
        ]
        statement = insert_ignoring_duplicates(self.dialect, StageChangeRow)
        await self._execute_many(statement, _CHANGE_COLUMNS, rows)

    async def _execute_many(
        self, statement: Insert, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """One executemany of ``statement`` with a tuple of values per row, in ``columns``
        order.

        On SQLite the tuples go to the driver as they are, so they must already hold
        SQLAlchemy's SQLite storage formats (dates as ISO text, booleans 0/1, JSON as
        text): its per-row bind processing cost more than SQLite's own work on a
        community's thousands of standings. Elsewhere, the usual Core executemany.
        """
        if self.dialect != "sqlite":
            await self.session.execute(
                statement, [dict(zip(columns, row, strict=True)) for row in rows]
            )
            return
        connection = await self.session.connection()
        compiled = statement.compile(dialect=connection.dialect, column_keys=list(columns))
        if list(compiled.positiontup or ()) != list(columns):
            raise AssertionError(f"unexpected parameter order: {compiled.positiontup}")
        await connection.exec_driver_sql(str(compiled), rows)

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
_STANDING_COLUMNS = ("community_id", "member_id", *_UPDATED)
_CHANGE_COLUMNS = ("community_id", "member_id", "old_stage", "new_stage", "changed_on")


def _standing(community_id: int, today: date, standing: MemberStanding) -> tuple[Any, ...]:
    """A standing's values in ``_STANDING_COLUMNS`` order."""
    rfm = standing.rfm
    state = standing.state
    return (
        community_id,
        standing.member_id,
        state.stage.value,
        state.since,
        state.demotion_pending_since,
        today,
        *(
            (None, None, None, None, None, False)
            if rfm is None
            else (rfm.recency, rfm.frequency, rfm.value, rfm.recency_days, rfm.segment.value,
                  rfm.high_value)
        ),
        list(standing.tags),
    )  # fmt: skip


def _sqlite_standing(
    community_id: int, today: str, standing: MemberStanding, tags: dict[tuple[str, ...], str]
) -> tuple[Any, ...]:
    """``_standing`` in SQLAlchemy's SQLite storage formats; ``today`` is ISO already."""
    rfm = standing.rfm
    state = standing.state
    pending = state.demotion_pending_since
    tags_json = tags.get(standing.tags)
    if tags_json is None:
        tags_json = tags[standing.tags] = json.dumps(list(standing.tags))
    return (
        community_id,
        standing.member_id,
        state.stage.value,
        state.since.isoformat(),
        None if pending is None else pending.isoformat(),
        today,
        *(
            (None, None, None, None, None, 0)
            if rfm is None
            else (rfm.recency, rfm.frequency, rfm.value, rfm.recency_days, rfm.segment.value,
                  int(rfm.high_value))
        ),
        tags_json,
    )  # fmt: skip


def _count_days(condition: Any) -> Any:
    """How many of a member's active days meet ``condition``."""
    return func.count(case((condition, 1)))


def _total(amounts: Iterable[Any]) -> Any:
    """The sum of per-member amounts, a missing one counting 0."""
    terms = [func.coalesce(amount, 0) for amount in amounts]
    total: Any = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _member_facts(row: Row[*tuple[Any, ...]], zone: ZoneInfo, rfm_first: int) -> MemberFacts:
    member_id, joined_at, left_at, tier, last_active, recent, from_baseline, weeks = row[:8]
    member_id = int(member_id)
    recent = int(recent or 0)
    last_active_on = None if last_active is None else date.fromordinal(last_active)
    activity = MemberActivity(
        joined_on=_local(joined_at, zone),
        left_on=None if left_at is None else _local(left_at, zone),
        last_active_on=last_active_on,
        active_days_recent=recent,
        active_days_baseline=int(from_baseline or 0) - recent,
        active_weeks=int(weeks or 0),
    )
    if left_at is not None:
        return MemberFacts(member_id, activity, None)
    rfm = RfmFacts(
        member_id=member_id,
        last_active_on=None if last_active is None or last_active < rfm_first else last_active_on,
        frequency=int(row[8] or 0),
        value=int(row[9]),
    )
    return MemberFacts(member_id, activity, rfm, str(tier))


def _local(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()
