"""The engagement tables (membership_stage, stage_change, member_day) and repository. It
never commits.

Every figure the lifecycle, RFM and tag rules need is aggregated in SQL, a few statements
per community, none per member. Activity is first rolled up into ``member_day``, one row per
(community, member, local day with participation) with that day's activities per local part
of the day, kept up to date incrementally by the recompute itself; the main statement then
reads that small, key-ordered table, one pass per member, outer-joined to the memberships
and to the standings stored last time. Local days are integers there (``date.toordinal()``)
and the window boundaries are computed in Python and bound as integers, so the same
statement runs on SQLite and PostgreSQL and compares integers, not dates.

Local time in SQL: SQLite knows no time zones, so the zone's UTC offsets over the instants
at hand come from Python's zoneinfo (the data that gave each activity its ``local_day``) and
enter the statement as a CASE over the instants the offset changes (daylight saving), the
same on both backends (``_LocalClock``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Insert,
    Integer,
    Row,
    Select,
    Subquery,
    UniqueConstraint,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from hearth.domain.activity import PARTICIPATION_KINDS
from hearth.domain.calendar import start_of_local_day
from hearth.domain.engagement import (
    NO_HABITS,
    MemberFacts,
    MemberHabits,
    MemberStanding,
    PreviousStanding,
)
from hearth.domain.lifecycle import LifecycleRules, MemberActivity, Stage, StageChange, StageState
from hearth.domain.points import CREDIT_KINDS
from hearth.domain.quizzes import MASTERY_ANSWERS, MASTERY_SHARE
from hearth.domain.rewards import RedemptionStatus
from hearth.domain.rfm import DAY_PARTS, RFM_WINDOW_DAYS, RfmFacts, Segment
from hearth.storage import tables
from hearth.storage.events import AttendanceRow, EventRow
from hearth.storage.quizzes import QuizAnswerRow
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


def _day_part_count() -> Any:
    return Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class MemberDayRow(SQLModel, table=True):
    """Roll-up of ``activity``: a member took part in a community on a local day, this many
    times in each local part of the day.

    Derived data, written only by ``SqlEngagementRepository.refresh_member_days`` (the
    recompute calls it first): the lifecycle aggregate reads these rows, in key order,
    instead of grouping millions of activity rows. ``day`` is the local day as
    ``date.toordinal()``; the four counts are participation activities in local hours
    0–5, 6–11, 12–17 and 18–23 (``rfm.DAY_PARTS``). Without a rowid on SQLite: the primary
    key is the table.
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
    night: int = _day_part_count()
    morning: int = _day_part_count()
    afternoon: int = _day_part_count()
    evening: int = _day_part_count()


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
# member_day's count columns, in ``rfm.DAY_PARTS`` order
_DAY_PART_COLUMNS = tuple(part.value for part in DAY_PARTS)
assert _DAY_PART_COLUMNS == ("night", "morning", "afternoon", "evening")
_MINUTES_PER_DAY = 24 * 60
_MINUTES_PER_DAY_PART = _MINUTES_PER_DAY // len(DAY_PARTS)


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
    """Aggregates for the lifecycle, RFM and tag rules, and the stored standings."""

    async def member_facts(
        self, community_id: int, today: date, timezone: str, rules: LifecycleRules
    ) -> list[MemberFacts]:
        """Every membership of the community (current or not), with its activity as of
        ``today``, what the last recompute stored for it and, for current members, its RFM
        inputs, tier, habits and interests; ordered by member id.

        Brings the ``member_day`` roll-up up to date first (``refresh_member_days``), then
        one statement: per membership, its active days over the rules' horizon (and the RFM
        window), counted per window from its ``member_day`` rows in that span (a key range:
        older history is never read), with the activities per day part and on weekend days
        over the RFM window; value is points earned (credits) + events attended +
        redemptions not cancelled, each summed per member over the RFM window's UTC
        instants; and the standing stored last time. Join and leave instants become local
        days in ``timezone``. A second statement reads every member's interests
        (``member_interests``).
        """
        await self._refresh_member_days(community_id, timezone)
        last = today.toordinal()
        rfm_first = last - (RFM_WINDOW_DAYS - 1)
        clock = await self._membership_clock(community_id, timezone, today)
        per_member = self._per_member(community_id, last, rules, clock)
        values = self._values(
            community_id,
            start_of_local_day(today - timedelta(days=RFM_WINDOW_DAYS - 1), timezone),
            start_of_local_day(today + timedelta(days=1), timezone),
        )
        member = per_member.c.member_id
        stored = MembershipStageRow
        statement = select(
            *(per_member.c[name] for name in _PER_MEMBER),
            _total(value.c.amount for value in values).label("value"),
            col(stored.stage),
            self._ordinal(col(stored.since)),
            self._ordinal(col(stored.demotion_pending_since)),
            col(stored.segment),
            self._ordinal(col(stored.segment_since)),
        ).select_from(per_member)
        for value in values:
            statement = statement.outerjoin(value, value.c.member_id == member)
        statement = statement.outerjoin(
            stored,
            and_(col(stored.community_id) == community_id, col(stored.member_id) == member),
        )
        connection = await self.session.connection()  # Core rows: no ORM per-row work
        result = await connection.execute(statement.order_by(member))
        rows = result.all()
        interests = await self.member_interests(community_id)
        return [_member_facts(row, rfm_first, interests) for row in rows]

    def _per_member(
        self, community_id: int, last: int, rules: LifecycleRules, clock: _LocalClock
    ) -> Subquery:
        """Per membership: the figures named in ``_PER_MEMBER``, its ``member_day`` rows in
        the horizon aggregated (grouped by the membership's key, so that PostgreSQL takes
        its other columns as they are)."""
        recent_first = last - (rules.recent_days - 1)
        baseline_first = recent_first - rules.baseline_days
        weeks_first = last - (7 * rules.mature_window_weeks - 1)
        rfm_first = last - (RFM_WINDOW_DAYS - 1)
        horizon_first = min(last - (summary_horizon(rules) - 1), rfm_first)
        day = col(MemberDayRow.day)
        everything_in_rfm = horizon_first >= rfm_first

        def in_rfm(amount: Any) -> Any:
            return amount if everything_in_rfm else case((day >= rfm_first, amount), else_=0)

        parts = [getattr(MemberDayRow, name) for name in _DAY_PART_COLUMNS]
        activities = parts[0] + parts[1] + parts[2] + parts[3]
        # ordinal 1 (1 January of year 1) was a Monday: Saturday and Sunday are 0 and 1 here
        weekend = (day + 1) % 7 < 2
        membership = tables.Membership
        member = col(membership.member_id)
        return (
            select(
                member.label("member_id"),
                clock.day(col(membership.joined_at)).label("joined"),
                clock.day(col(membership.left_at)).label("left"),
                col(membership.tier).label("tier"),
                func.max(day).label("last_active"),
                _count_days(day >= recent_first).label("recent"),
                # the baseline is the days from its first on, less the recent ones
                _count_days(day >= baseline_first).label("from_baseline"),
                # distinct 7-day weeks, 0 = the week ending today; NULL before the window
                func.count(func.distinct(case((day >= weeks_first, (last - day) // 7)))).label(
                    "weeks"
                ),
                (func.count(day) if everything_in_rfm else _count_days(day >= rfm_first)).label(
                    "frequency"
                ),
                *(
                    func.sum(in_rfm(part)).label(name)
                    for part, name in zip(parts, _DAY_PART_COLUMNS, strict=True)
                ),
                func.sum(case((weekend, in_rfm(activities)), else_=0)).label("weekend"),
            )
            .select_from(membership)
            .outerjoin(
                MemberDayRow,
                and_(
                    col(MemberDayRow.community_id) == col(membership.community_id),
                    col(MemberDayRow.member_id) == member,
                    day >= horizon_first,
                    day <= last,
                ),
            )
            .where(col(membership.community_id) == community_id)
            .group_by(col(membership.community_id), member)
            .subquery("per_member")
        )

    async def _membership_clock(self, community_id: int, timezone: str, today: date) -> _LocalClock:
        """Local time for the community's join and leave instants (they span its history)."""
        membership = tables.Membership
        joined, left = col(membership.joined_at), col(membership.left_at)
        bounds = (
            await self.session.execute(
                select(func.min(joined), func.max(joined), func.max(left)).where(
                    col(membership.community_id) == community_id
                )
            )
        ).one()
        instants = [moment for moment in bounds if moment is not None]
        first = min([today, *(_utc(moment).date() for moment in instants)])
        latest = max([today, *(_utc(moment).date() for moment in instants)])
        return _local_clock(self.dialect, timezone, first, latest)

    async def member_interests(self, community_id: int) -> dict[int, tuple[str, ...]]:
        """Per member, sorted: the quiz topics they answer well and the tags of the events
        they attended.

        "Answer well" is the quiz rules' mastery (``domain.quizzes.TopicRecord``): at least
        ``MASTERY_ANSWERS`` standing answers on the topic and at least ``MASTERY_SHARE`` of
        them right, the share compared as the same floating-point product.
        """
        answer = QuizAnswerRow
        answered = func.count()
        right = func.count(case((col(answer.correct), 1)))
        mastered: Select[*tuple[Any, ...]] = (
            select(col(answer.member_id).label("member_id"), col(answer.topic).label("interest"))
            .where(col(answer.community_id) == community_id, col(answer.option).is_not(None))
            .group_by(col(answer.member_id), col(answer.topic))
            .having(answered >= MASTERY_ANSWERS, right >= literal(MASTERY_SHARE, Float) * answered)
        )
        attended = (
            select(col(AttendanceRow.member_id), col(EventRow.tag))
            .join(EventRow, col(EventRow.id) == col(AttendanceRow.event_id))
            .where(col(EventRow.community_id) == community_id, col(EventRow.tag).is_not(None))
        )
        result = await self.session.execute(union(mastered, attended))  # union: no repeats
        found: defaultdict[int, list[str]] = defaultdict(list)
        for member_id, interest in result:
            found[int(member_id)].append(str(interest))
        return {member_id: tuple(sorted(each)) for member_id, each in found.items()}

    async def refresh_member_days(self, community_id: int) -> None:
        """Roll the community's activity up into ``member_day``: one row per member and local
        day with participation, with the activities per local day part. The first time, all
        of it; after that, the activity from ``ROLLUP_MARGIN_DAYS`` before the latest local
        day the last refresh read (those days are counted again, in full), so a daily
        refresh reads a few days' activity.
        """
        timezone = await self.session.scalar(
            select(col(tables.Community.timezone)).where(col(tables.Community.id) == community_id)
        )
        if timezone is not None:
            await self._refresh_member_days(community_id, str(timezone))

    async def _refresh_member_days(self, community_id: int, timezone: str) -> None:
        through = await self.session.scalar(
            select(col(MemberDayRollupRow.through_day)).where(
                col(MemberDayRollupRow.community_id) == community_id
            )
        )
        activity = tables.Activity
        local_day = col(activity.local_day)
        in_community = col(activity.community_id) == community_id
        # the index on (community, local day) makes each a single lookup (one per query)
        latest = await self.session.scalar(select(func.max(local_day)).where(in_community))
        first = await self.session.scalar(select(func.min(local_day)).where(in_community))
        if latest is None or first is None:
            return
        first, latest = _as_date(first), _as_date(latest)
        if through is not None:
            first = max(first, date.fromordinal(through - ROLLUP_MARGIN_DAYS))
        part = _local_clock(self.dialect, timezone, first, latest).part(col(activity.occurred_at))
        source = (
            select(
                col(activity.community_id),
                col(activity.member_id),
                self._ordinal(local_day),
                *(func.count(case((part == index, 1))) for index in range(len(DAY_PARTS))),
            )
            .where(in_community, col(activity.kind).in_(_PARTICIPATION), local_day >= first)
            .group_by(col(activity.community_id), local_day, col(activity.member_id))
        )
        module: Any = postgresql if self.dialect == "postgresql" else sqlite
        table = _table(MemberDayRow)
        rollup = module.insert(table).from_select(
            ["community_id", "member_id", "day", *_DAY_PART_COLUMNS], source
        )
        counts = {name: rollup.excluded[name] for name in _DAY_PART_COLUMNS}
        await self.session.execute(
            rollup.on_conflict_do_update(
                index_elements=["community_id", "member_id", "day"],
                set_=counts,
                # a day read again is rewritten only when late activity changed its counts
                where=or_(*(table.c[name] != value for name, value in counts.items())),
            )
        )
        mark = module.insert(_table(MemberDayRollupRow)).values(
            community_id=community_id, through_day=latest.toordinal()
        )
        await self.session.execute(
            mark.on_conflict_do_update(
                index_elements=["community_id"], set_={"through_day": mark.excluded.through_day}
            )
        )

    def _ordinal(self, local_day: Any) -> Any:
        return day_ordinal(self.dialect, local_day)

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

    async def forgotten_members(self, community_id: int) -> frozenset[int]:
        """Members of the community (current or not) whose personal data was erased: few,
        so one indexed pass over the memberships joined to the member rows."""
        membership = tables.Membership
        member_id = col(membership.member_id)
        result = await self.session.execute(
            select(member_id)
            .join(tables.Member, col(tables.Member.id) == member_id)
            .where(
                col(membership.community_id) == community_id,
                col(tables.Member.forgotten_at).is_not(None),
            )
        )
        return frozenset(int(row[0]) for row in result)

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
            tags: dict[tuple[str, ...], str] = {}  # as JSON text, by tags: a few hundred
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
                None if change.old is None else _TEXT[change.old],
                _TEXT[change.new],
                change.on.isoformat() if sqlite_days else change.on,
            )
            for member_id, change in changes
        ]
        statement = insert_ignoring_duplicates(self.dialect, StageChangeRow)
        await self._execute_many(statement, _CHANGE_COLUMNS, rows)

    async def _execute_many(
        self, statement: Insert, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
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
        sql = _SQLITE_SQL.get(columns)
        if sql is None:  # compiled once per process: the same two statements every time
            compiled = statement.compile(dialect=connection.dialect, column_keys=list(columns))
            if list(compiled.positiontup or ()) != list(columns):
                raise AssertionError(f"unexpected parameter order: {compiled.positiontup}")
            sql = _SQLITE_SQL[columns] = str(compiled)
        await connection.exec_driver_sql(sql, rows)

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


# -- local time in SQL


@dataclass(frozen=True, slots=True)
class _LocalClock:
    """SQL for the local day and part of the day of a UTC timestamp column, in one zone.

    ``initial`` is the zone's UTC offset (minutes) before the first of ``changes``, each an
    instant from which another offset holds. The offset of a row's instant is a CASE over
    the changes, latest first (most rows are recent); a zone without changes in the span is
    a constant. The local minute of the UTC day may fall outside 0–1439: the local day is
    then the UTC day before or after.
    """

    dialect: str
    initial: int
    changes: tuple[tuple[datetime, int], ...]

    def day(self, instant: Any) -> Any:
        """The local day's ordinal (``date.toordinal()``); NULL for NULL."""
        utc_day, minute = self._local_minute(instant)
        return utc_day + (minute + _MINUTES_PER_DAY) // _MINUTES_PER_DAY - 1

    def part(self, instant: Any) -> Any:
        """The local part of the day: 0 night (0–5 h), 1 morning, 2 afternoon, 3 evening."""
        _, minute = self._local_minute(instant)
        return (minute + _MINUTES_PER_DAY) % _MINUTES_PER_DAY // _MINUTES_PER_DAY_PART

    def _local_minute(self, instant: Any) -> tuple[Any, Any]:
        """(the UTC day's ordinal, the local minute counted from that UTC day's midnight)."""
        if self.dialect == "postgresql":
            utc_day = type_coerce(cast(instant, Date) - _EPOCH, Integer) + _EPOCH.toordinal()
            minute = cast(extract("hour", instant), Integer) * 60 + cast(
                extract("minute", instant), Integer
            )
        else:  # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
            utc_day = cast(func.julianday(func.substr(instant, 1, 10)) - 1721424.5, Integer)
            minute = cast(func.substr(instant, 12, 2), Integer) * 60 + cast(
                func.substr(instant, 15, 2), Integer
            )
        offset: Any = self.initial
        if self.changes:
            offset = case(
                *((instant >= since, minutes) for since, minutes in reversed(self.changes)),
                else_=self.initial,
            )
        return utc_day, minute + offset


def _local_clock(dialect: str, timezone: str, first: date, last: date) -> _LocalClock:
    """A clock right for the instants of the UTC days ``first`` to ``last`` (and a day more
    either side)."""
    initial, changes = _offset_changes(timezone, first, last)
    return _LocalClock(dialect, initial, changes)


@lru_cache(maxsize=256)
def _offset_changes(
    timezone: str, first: date, last: date
) -> tuple[int, tuple[tuple[datetime, int], ...]]:
    """The zone's UTC offset in minutes at the start, and each instant (to the second) from
    which another holds, over the UTC days ``first`` − 1 to ``last`` + 1.

    Read day by day from zoneinfo: two changes within one day (no zone has had such since
    the 1940s) would be missed.
    """
    zone = ZoneInfo(timezone)
    start = int(datetime.combine(first - timedelta(days=1), time(), UTC).timestamp())
    end = int(datetime.combine(last + timedelta(days=2), time(), UTC).timestamp())
    initial = offset = _offset_minutes(zone, start)
    changes: list[tuple[datetime, int]] = []
    for day_start in range(start, end, 86_400):
        later = _offset_minutes(zone, day_start + 86_400)
        if later == offset:
            continue
        before, after = day_start, day_start + 86_400  # offset(before) == offset != later
        while after - before > 1:
            middle = (before + after) // 2
            if _offset_minutes(zone, middle) == offset:
                before = middle
            else:
                after = middle
        changes.append((datetime.fromtimestamp(after, UTC), later))
        offset = later
    return initial, tuple(changes)


def _offset_minutes(zone: ZoneInfo, timestamp: int) -> int:
    offset = datetime.fromtimestamp(timestamp, zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // 60


def _utc(moment: Any) -> datetime:
    """A UTC instant as read by an aggregate (SQLite returns text there)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


# -- rows


# the per-membership figures, in the order the main statement selects them
_PER_MEMBER = (
    "member_id",
    "joined",
    "left",
    "tier",
    "last_active",
    "recent",
    "from_baseline",
    "weeks",
    "frequency",
    *_DAY_PART_COLUMNS,
    "weekend",
)
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
    "segment_since",
    "high_value",
    "tags",
)
_STANDING_COLUMNS = ("community_id", "member_id", *_UPDATED)
_CHANGE_COLUMNS = ("community_id", "member_id", "old_stage", "new_stage", "changed_on")
_SQLITE_SQL: dict[tuple[str, ...], str] = {}  # the SQLite text of each bulk write, by columns
# enum values without enum's slow ``.value`` per row
_TEXT: dict[Stage | Segment, str] = {each: each.value for each in (*Stage, *Segment)}
_STAGES = {stage.value: stage for stage in Stage}
_SEGMENTS = {segment.value: segment for segment in Segment}


def _standing(community_id: int, today: date, standing: MemberStanding) -> tuple[Any, ...]:
    """A standing's values in ``_STANDING_COLUMNS`` order."""
    rfm = standing.rfm
    state = standing.state
    return (
        community_id,
        standing.member_id,
        _TEXT[state.stage],
        state.since,
        state.demotion_pending_since,
        today,
        *(
            (None, None, None, None, None, None, False)
            if rfm is None
            else (rfm.recency, rfm.frequency, rfm.value, rfm.recency_days, _TEXT[rfm.segment],
                  standing.segment_since, rfm.high_value)
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
    since = standing.segment_since
    return (
        community_id,
        standing.member_id,
        _TEXT[state.stage],
        state.since.isoformat(),
        None if pending is None else pending.isoformat(),
        today,
        *(
            (None, None, None, None, None, None, 0)
            if rfm is None
            else (rfm.recency, rfm.frequency, rfm.value, rfm.recency_days, _TEXT[rfm.segment],
                  None if since is None else since.isoformat(), int(rfm.high_value))
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


def _member_facts(
    row: Row[*tuple[Any, ...]], rfm_first: int, interests: dict[int, tuple[str, ...]]
) -> MemberFacts:
    """A row of the main statement (columns as ``member_facts`` selects them)."""
    (
        member_id, joined, left, tier, last_active, recent, from_baseline, weeks, frequency,
        night, morning, afternoon, evening, weekend, value,
        stage, since, pending, segment, segment_since,
    ) = row  # fmt: skip
    recent = recent or 0
    last_active_on = None if last_active is None else date.fromordinal(last_active)
    activity = MemberActivity(
        joined_on=date.fromordinal(joined),
        left_on=None if left is None else date.fromordinal(left),
        last_active_on=last_active_on,
        active_days_recent=recent,
        active_days_baseline=(from_baseline or 0) - recent,
        active_weeks=weeks or 0,
    )
    previous = None
    if stage is not None:
        previous = PreviousStanding(
            StageState(
                _STAGES[stage],
                date.fromordinal(since),
                None if pending is None else date.fromordinal(pending),
            ),
            None if segment is None else _SEGMENTS[segment],
            None if segment_since is None else date.fromordinal(segment_since),
        )
    if left is not None:
        return MemberFacts(member_id, activity, None, previous=previous)
    rfm = RfmFacts(
        member_id=member_id,
        last_active_on=None if last_active is None or last_active < rfm_first else last_active_on,
        frequency=frequency or 0,
        value=int(value),
    )
    habits = NO_HABITS
    if last_active is not None:
        parts = (night or 0, morning or 0, afternoon or 0, evening or 0)
        habits = MemberHabits(parts, weekdays=sum(parts) - (weekend or 0), weekend=weekend or 0)
    return MemberFacts(
        member_id,
        activity,
        rfm,
        str(tier),
        habits,
        interests.get(member_id, ()),
        previous,
    )


def day_ordinal(dialect: str, local_day: Any) -> Any:
    """SQL for ``local_day.toordinal()``: days since 31 December of the year 0."""
    if dialect == "postgresql":
        # (asyncpg sends date.min as -infinity: count from a later day of known ordinal)
        return type_coerce(local_day - _EPOCH, Integer) + _EPOCH.toordinal()
    # julianday of 0001-01-01 is 1721425.5
    return func.cast(func.julianday(local_day) - 1721424.5, Integer)


async def participation_days(
    session: AsyncSession, dialect: str, community_id: int, first: date, last: date
) -> Subquery:
    """``(member_id, day)``, the day as ``date.toordinal()``: each member who took part in the
    community on each local day from ``first`` to ``last``. Reads only: the ``member_day``
    roll-up for the days it has read in full (before the latest day its last refresh read),
    the activity itself for the days after — a few at most, once the nightly recompute ran.
    """
    through = await session.scalar(
        select(col(MemberDayRollupRow.through_day)).where(
            col(MemberDayRollupRow.community_id) == community_id
        )
    )
    low, high = first.toordinal(), last.toordinal()
    tail_from = low if through is None else max(low, int(through))
    activity = tables.Activity
    tail = (
        select(
            col(activity.member_id).label("member_id"),
            day_ordinal(dialect, col(activity.local_day)).label("day"),
        )
        .where(
            col(activity.community_id) == community_id,
            col(activity.local_day).between(date.fromordinal(tail_from), last),
            col(activity.kind).in_(_PARTICIPATION),
        )
        .distinct()
    )
    if tail_from <= low:
        return tail.subquery("participation_days")
    rolled: Any = select(
        col(MemberDayRow.member_id).label("member_id"), col(MemberDayRow.day).label("day")
    ).where(
        col(MemberDayRow.community_id) == community_id,
        col(MemberDayRow.day) >= low,
        col(MemberDayRow.day) < tail_from,
        col(MemberDayRow.day) <= high,
    )
    if tail_from > high:
        rolled_only: Subquery = rolled.subquery("participation_days")
        return rolled_only
    return union_all(rolled, tail).subquery("participation_days")
