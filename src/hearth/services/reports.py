"""Figures operators read: members, joins and leaves, daily active members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hearth.domain.activity import PARTICIPATION_KINDS, ActivityKind
from hearth.domain.calendar import day_range
from hearth.domain.members import CommunityProfile
from hearth.domain.points import EntryKind, rules_from_settings
from hearth.services.points import leaderboard
from hearth.services.ports import UnitOfWork


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
