"""Figures operators read: members, joins and leaves, daily active members, and the
period-over-period insight behind /stats and the weekly digest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hearth.domain.activity import PARTICIPATION_KINDS, ActivityKind
from hearth.domain.calendar import day_range, local_day, start_of_local_day
from hearth.domain.lifecycle import Activation, LifecycleRules, activation
from hearth.domain.members import CommunityProfile
from hearth.domain.points import EntryKind, rules_from_settings
from hearth.services.points import leaderboard
from hearth.services.ports import DaySpan, TimeSpan, UnitOfWork


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One local day of a community."""

    day: date
    active: int
    joined: int
    left: int


@dataclass(frozen=True, slots=True)
class Overview:
    """A community over a period of local days, both ends included."""

    community: CommunityProfile
    first: date
    last: date
    members: int
    reachable: int  # members who can receive private messages (started the bot)
    active: int  # distinct members active at least once in the period
    joined: int
    left: int
    days: list[DayFigures]

    @property
    def average_daily_active(self) -> float:
        return sum(day.active for day in self.days) / len(self.days) if self.days else 0.0

    @property
    def stickiness(self) -> float:
        """Average daily active over active in the period (DAU / period-active)."""
        return self.average_daily_active / self.active if self.active else 0.0


async def overview(
    uow: UnitOfWork, community: CommunityProfile, *, last: date, days: int
) -> Overview:
    """Figures for the ``days`` local days that end with ``last``."""
    if days < 1:
        raise ValueError("days must be at least 1")
    first = last - timedelta(days=days - 1)
    active = await uow.activity.daily_members(community.id, first, last, PARTICIPATION_KINDS)
    joined = await uow.activity.daily_members(community.id, first, last, [ActivityKind.JOIN])
    left = await uow.activity.daily_members(community.id, first, last, [ActivityKind.LEAVE])
    series = [
        DayFigures(day, active.get(day, 0), joined.get(day, 0), left.get(day, 0))
        for day in day_range(first, last)
    ]
    return Overview(
        community=community,
        first=first,
        last=last,
        members=await uow.memberships.count_current(community.id),
        reachable=await uow.memberships.count_reachable(community.id),
        active=await uow.activity.distinct_members(community.id, first, last, PARTICIPATION_KINDS),
        joined=sum(day.joined for day in series),
        left=sum(day.left for day in series),
        days=series,
    )


@dataclass(frozen=True, slots=True)
class PointsOverview:
    """The points economy of a community: what was issued, spent, lost, and who leads."""

    issued: int  # earned and granted
    redeemed: int  # spent on rewards
    deducted: int  # taken back by operators
    expired: int
    outstanding: int  # held by members now
    tiers: dict[str, int]  # tier name -> members, by points earned in the last 12 months
    top: list[tuple[int, str, int]]  # (rank, name, points earned in the last 12 months)


async def points_overview(
    uow: UnitOfWork, community: CommunityProfile, *, now: datetime, size: int = 10
) -> PointsOverview:
    rules = rules_from_settings(community.points_rules)
    totals = await uow.points.totals_by_kind(community.id)
    earners = await uow.points.earned_by_member(community.id, now - timedelta(days=365))
    tiers = {tier.name: 0 for tier in rules.tiers}
    for _, _, earned in earners:
        tiers[rules.tier_for(earned).name] += 1
    # Current members who earned nothing this year sit in the first tier.
    members = await uow.memberships.count_current(community.id)
    tiers[rules.tiers[0].name] += max(0, members - len(earners))
    board = await leaderboard(uow, community.id, 0, since=now - timedelta(days=365), size=size)
    return PointsOverview(
        issued=totals.get(EntryKind.EARN, 0) + totals.get(EntryKind.GRANT, 0),
        redeemed=-totals.get(EntryKind.SPEND, 0),
        deducted=-totals.get(EntryKind.DEDUCT, 0),
        expired=-totals.get(EntryKind.EXPIRE, 0),
        outstanding=await uow.points.outstanding(community.id),
        tiers=tiers,
        top=board.rows,
    )


WEEK_DAYS = 7  # the window of the weekly active members (WAU)
MONTH_DAYS = 30  # … and of the monthly active members (MAU)


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """A community over the local days ``first`` to ``last``, both included.

    Rates are shares from 0 to 1, None when their base is 0.

    - ``members``: members at the end of the period; ``members_at_start``: when its first
      day began. Both are today's members less the joins and plus the leaves recorded
      since (members first seen taking part were there all along).
    - ``joined`` / ``left``: joins and leaves recorded in the period.
    - DAU (``daily_active``): the average over the period's days of the members active
      that day, active meaning any of ``PARTICIPATION_KINDS``; WAU / MAU
      (``weekly_active`` / ``monthly_active``): distinct active members in the 7 / 30
      local days ending ``last``; ``stickiness``: DAU / MAU.
    - ``activation_rate``: of the members who joined in the period and whose activation
      window (``LifecycleRules.activation_days``) has closed or who activated already, the
      share whose first meaningful action (the earliest of ``ACTIVATION_KINDS``) came
      within the window. Members still inside their window are pending and left out, as
      ``domain.lifecycle.activation`` says; members first seen taking part never joined.
    - ``checkin_rate``: the average per day of members who checked in, over ``members``.
    - ``churn_rate``: members who left, or whose stage became churned while still in the
      group, in the period, over ``members_at_start``.
    - ``median_streak``: the median check-in streak alive at the end of the period, among
      the members who had one then (None: nobody had one).
    - ``points_issued`` (earned and granted, refunds included) and ``points_redeemed``
      (spent on rewards), by the ledger entries' time.
    - ``attendances``: on-site check-ins at events in the period; ``event_participation``:
      distinct attendees over ``members``.
    """

    first: date
    last: date
    members: int
    members_at_start: int
    joined: int
    left: int
    member_days: int  # (member, day) pairs with participation: the daily actives summed
    weekly_active: int
    monthly_active: int
    activated: int  # joined in the period and activated within the window
    activation_judged: int  # joined in the period and no longer pending
    checkins: int  # (member, day) check-ins
    churned: int
    median_streak: float | None
    points_issued: int
    points_redeemed: int
    attendances: int
    attendees: int

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def daily_active(self) -> float:
        return self.member_days / self.days

    @property
    def stickiness(self) -> float | None:
        return _share(self.daily_active, self.monthly_active)

    @property
    def activation_rate(self) -> float | None:
        return _share(self.activated, self.activation_judged)

    @property
    def checkin_rate(self) -> float | None:
        return _share(self.checkins / self.days, self.members)

    @property
    def churn_rate(self) -> float | None:
        return _share(self.churned, self.members_at_start)

    @property
    def event_participation(self) -> float | None:
        return _share(self.attendees, self.members)


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class Compared:
    """One figure in a period and in the period of the same length just before it."""

    current: float | None  # None: not defined, such as a rate of nobody
    previous: float | None
    is_rate: bool = False  # a share from 0 to 1, compared in percentage points

    @property
    def change(self) -> float | None:
        """The move since the previous period: percent of the previous amount, or
        percentage points for a rate. None when there is nothing to compare with: a value
        is undefined, or an amount grew from 0."""
        if self.current is None or self.previous is None:
            return None
        if self.is_rate:
            return (self.current - self.previous) * 100
        if self.previous == 0:
            return 0.0 if self.current == 0 else None
        return (self.current - self.previous) / self.previous * 100


@dataclass(frozen=True, slots=True)
class Insight:
    """A community's figures for a period, each compared with the period of the same length
    before it (see ``PeriodFigures`` for the definitions)."""

    community: CommunityProfile
    current: PeriodFigures
    # None when Hearth did not serve the community from that period's first day on: its
    # figures would compare with what Hearth never saw.
    previous: PeriodFigures | None
    reachable: int  # members now who can receive private messages (started the bot)

    @property
    def days(self) -> int:
        return self.current.days

    def _compared(
        self, figure: Callable[[PeriodFigures], float | None], *, rate: bool = False
    ) -> Compared:
        previous = None if self.previous is None else figure(self.previous)
        return Compared(figure(self.current), previous, rate)

    @property
    def members(self) -> Compared:
        return self._compared(lambda period: period.members)

    @property
    def joined(self) -> Compared:
        return self._compared(lambda period: period.joined)

    @property
    def left(self) -> Compared:
        return self._compared(lambda period: period.left)

    @property
    def daily_active(self) -> Compared:
        return self._compared(lambda period: period.daily_active)

    @property
    def weekly_active(self) -> Compared:
        return self._compared(lambda period: period.weekly_active)

    @property
    def monthly_active(self) -> Compared:
        return self._compared(lambda period: period.monthly_active)

    @property
    def stickiness(self) -> Compared:
        return self._compared(lambda period: period.stickiness, rate=True)

    @property
    def activation_rate(self) -> Compared:
        return self._compared(lambda period: period.activation_rate, rate=True)

    @property
    def checkin_rate(self) -> Compared:
        return self._compared(lambda period: period.checkin_rate, rate=True)

    @property
    def churn_rate(self) -> Compared:
        return self._compared(lambda period: period.churn_rate, rate=True)

    @property
    def median_streak(self) -> Compared:
        return self._compared(lambda period: period.median_streak)

    @property
    def points_issued(self) -> Compared:
        return self._compared(lambda period: period.points_issued)

    @property
    def points_redeemed(self) -> Compared:
        return self._compared(lambda period: period.points_redeemed)

    @property
    def attendances(self) -> Compared:
        return self._compared(lambda period: period.attendances)

    @property
    def event_participation(self) -> Compared:
        return self._compared(lambda period: period.event_participation, rate=True)


async def insight(
    uow: UnitOfWork,
    community: CommunityProfile,
    *,
    last: date,
    days: int,
    now: datetime,
    rules: LifecycleRules | None = None,
) -> Insight:
    """The ``days`` local days ending with ``last``, against the ``days`` days before.

    ``now`` is the moment of the report: members are counted back from the members at
    ``now``, and activation windows still open at ``now`` are pending. The previous period
    is left out (None) unless Hearth served the community from its first local day on.
    Eleven statements however long the period, each aggregated in SQL over both periods.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    rules = rules or LifecycleRules()
    zone = community.timezone
    current: DaySpan = (last - timedelta(days=days - 1), last)
    previous: DaySpan = (current[0] - timedelta(days=days), current[0] - timedelta(days=1))
    periods = (current, previous)
    ends = [end for _, end in periods]
    instants = [_instants(span, zone) for span in periods]
    after = (last + timedelta(days=1), local_day(now, zone))  # empty when ``last`` is today
    repository, community_id = uow.insight, community.id

    weeks = [_ending(end, WEEK_DAYS) for end in ends]
    months = [_ending(end, MONTH_DAYS) for end in ends]
    active = await repository.participation(community_id, [*periods, *weeks, *months])
    moves = await repository.joins_and_leaves(community_id, [*periods, after])
    members = _members_back_from(await uow.memberships.count_current(community_id), moves)
    activations = _activations(
        await repository.first_actions(community_id, (instants[1][0], instants[0][1])),
        instants,
        now,
        rules,
    )
    checkins = await repository.checkins(community_id, periods)
    churned = await repository.churned(community_id, periods)
    streaks = await repository.streaks(
        community_id, [(end, until) for end, (_, until) in zip(ends, instants, strict=True)]
    )
    points_moved = await repository.points(community_id, instants)
    attendance = await repository.attendance(community_id, instants)
    figures = [
        PeriodFigures(
            first=first,
            last=end,
            members=members[index][1],
            members_at_start=members[index][0],
            joined=moves[index][0],
            left=moves[index][1],
            member_days=active[index][0],
            weekly_active=active[2 + index][1],
            monthly_active=active[4 + index][1],
            activated=activations[index][Activation.ACTIVATED],
            activation_judged=sum(
                count
                for outcome, count in activations[index].items()
                if outcome is not Activation.PENDING
            ),
            checkins=checkins[index],
            churned=churned[index],
            median_streak=median(streaks[index]),
            points_issued=points_moved[index][0],
            points_redeemed=points_moved[index][1],
            attendances=attendance[index][0],
            attendees=attendance[index][1],
        )
        for index, (first, end) in enumerate(periods)
    ]
    serving_since = await repository.serving_since(community_id)
    observed = serving_since is not None and local_day(serving_since, zone) <= previous[0]
    return Insight(
        community=community,
        current=figures[0],
        previous=figures[1] if observed else None,
        reachable=await uow.memberships.count_reachable(community_id),
    )


def _instants(span: DaySpan, timezone: str) -> TimeSpan:
    """The UTC instants a span of local days covers: its first day's start, and the start
    of the day after its last."""
    first, last = span
    return start_of_local_day(first, timezone), start_of_local_day(
        last + timedelta(days=1), timezone
    )


def _ending(last: date, days: int) -> DaySpan:
    return last - timedelta(days=days - 1), last


def _members_back_from(now: int, moves: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(members at the start, at the end) of the current and the previous period, counted
    back from the members ``now``: ``moves`` holds (joins, leaves) of the current period,
    the previous one and the days after the current one, in that order."""
    (joined, left), (joined_before, left_before), (joined_after, left_after) = moves
    end = max(0, now - joined_after + left_after)
    start = max(0, end - joined + left)
    start_before = max(0, start - joined_before + left_before)
    return [(start, end), (start_before, start)]


def _activations(
    joins: list[tuple[datetime, datetime | None]],
    periods: list[TimeSpan],
    now: datetime,
    rules: LifecycleRules,
) -> list[Counter[Activation]]:
    """How the members who joined in each period stand on activation at ``now``."""
    tallies: list[Counter[Activation]] = [Counter() for _ in periods]
    for joined_at, first_action_at in joins:
        for tally, (start, end) in zip(tallies, periods, strict=True):
            if start <= joined_at < end:
                tally[activation(joined_at, first_action_at, now, rules)] += 1
    return tallies


def median(counts: Mapping[int, int]) -> float | None:
    """The median of values given as value -> how many times; None when there are none."""
    total = sum(counts.values())
    if total == 0:
        return None
    ordered = sorted(counts.items())

    def at(position: int) -> int:  # the value at a 0-based position in sorted order
        seen = 0
        for value, count in ordered:
            seen += count
            if position < seen:
                return value
        raise AssertionError("position beyond the counts")

    middle = (total - 1) // 2
    if total % 2:
        return float(at(middle))
    return (at(middle) + at(middle + 1)) / 2
