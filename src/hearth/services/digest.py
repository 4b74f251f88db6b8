"""The weekly digest operators get in private: the week's figures against the week before,
who needs attention, what is coming up, and three charts.

Each community's digest goes out once a week at the configured local time
(``Settings.digest_schedule``, e.g. ``mon 09:00``), to each of its operators who can be
written to, while the community has it on (``/digest on|off``). The job looks every few
minutes; a run missed while the bot was down is made up within ``DIGEST_GRACE``. Each
operator's copy has a dedupe key of community × operator × ISO week in the outbox, so the
job running twice, or again after a restart, queues nothing more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hearth.domain.activity import PARTICIPATION_KINDS
from hearth.domain.calendar import day_range
from hearth.domain.cohorts import Movement, RetentionTable, week_label
from hearth.domain.events import Event
from hearth.domain.exit_survey import Departures
from hearth.domain.lifecycle import Stage
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.domain.rfm import Segment
from hearth.domain.schedules import Schedule, runs_between
from hearth.services import attribution, channels, exit_survey
from hearth.services.attribution import ConversionDigest
from hearth.services.channels import ChannelReport
from hearth.services.cohorts import retention_table
from hearth.services.ports import DigestPost, UnitOfWork, UnitOfWorkFactory
from hearth.services.reports import Insight, insight

DIGEST_GRACE = timedelta(days=1)  # a run missed by more than this waits for next week
ATTACHMENT_DAYS = 30  # stored charts older than this are purged
PERIOD_DAYS = 7  # the figures: the 7 local days before the digest's day
CHART_WEEKS = 8  # the charts: 8 weeks of days, 8 join cohorts
LISTED = 10  # members named per list; the rest are counted
UPCOMING_EVENTS = 10
WATCHED_SEGMENTS = (Segment.CANT_LOSE, Segment.AT_RISK)


def digest_key(community_id: int, member_id: int, week: str) -> str:
    """The outbox key of one operator's digest of one community and ISO week."""
    return f"digest:{community_id}:{member_id}:{week}"


@dataclass(frozen=True, slots=True)
class Listing:
    """Some of the members a list is about (``LISTED`` at most), and how many there are."""

    total: int
    members: tuple[Movement, ...]

    @property
    def more(self) -> int:
        return self.total - len(self.members)


@dataclass(frozen=True, slots=True)
class Upcoming:
    """An event starting within the next week, with how many are going."""

    event: Event
    going: int


@dataclass(frozen=True, slots=True)
class DigestCharts:
    """The series behind the digest's charts, over the local days ``days``."""

    days: list[date]
    active: list[int]  # members active on each day
    stages: dict[date, Counter[Stage]]  # members per lifecycle stage on each day
    retention: RetentionTable


@dataclass(frozen=True, slots=True)
class Digest:
    """One community's digest as of the local day ``today`` (the days before it)."""

    community: CommunityProfile
    today: date
    figures: Insight  # the 7 days before ``today`` against the 7 before those
    watched: Listing  # moved into "can't lose" or "at risk" in the last 7 days
    declining: Listing  # became "declining" in the last 7 days
    upcoming: list[Upcoming]  # starting within 7 days of the moment it was made
    charts: DigestCharts
    departures: Departures = field(default_factory=Departures)  # why members left, 7 days
    by_channel: ChannelReport | None = None  # the 7 days by channel, when it has channels
    conversions: ConversionDigest | None = None  # the 7 days, when it has conversions

    @property
    def week(self) -> str:
        return week_label(self.today)


async def chart_series(
    uow: UnitOfWork, community: CommunityProfile, today: date, weeks: int = CHART_WEEKS
) -> DigestCharts:
    """The ``weeks`` weeks of local days before ``today``: members active per day and per
    lifecycle stage per day; and the last ``weeks`` join cohorts."""
    last = today - timedelta(days=1)
    first = last - timedelta(days=7 * weeks - 1)
    days = day_range(first, last)
    active = await uow.activity.daily_members(community.id, first, last, PARTICIPATION_KINDS)
    return DigestCharts(
        days=days,
        active=[active.get(day, 0) for day in days],
        stages=await uow.cohorts.stage_counts(community.id, first, last),
        retention=await retention_table(uow, community, today, weeks),
    )


async def compose(
    uow: UnitOfWork, community: CommunityProfile, today: date, now: datetime
) -> Digest:
    """The digest of ``community`` for its local day ``today``; events from ``now`` on."""
    since = today - timedelta(days=PERIOD_DAYS)  # moves on the 7 days ending today
    watched = await uow.cohorts.entered_segments(community.id, WATCHED_SEGMENTS, since, LISTED)
    declining = await uow.cohorts.entered_stage(community.id, Stage.DECLINING, since, LISTED)
    horizon = now + timedelta(days=PERIOD_DAYS)
    events = await uow.events.upcoming([community.id], now, UPCOMING_EVENTS)
    upcoming = [
        Upcoming(event, (await uow.events.counts(event.id)).going)
        for event in events
        if event.starts_at <= horizon
    ]
    figures = await insight(
        uow, community, last=today - timedelta(days=1), days=PERIOD_DAYS, now=now
    )
    return Digest(
        community=community,
        today=today,
        figures=figures,
        watched=Listing(watched[0], tuple(watched[1])),
        declining=Listing(declining[0], tuple(declining[1])),
        upcoming=upcoming,
        charts=await chart_series(uow, community, today),
        departures=await exit_survey.departures(
            uow, community, first=since, last=today - timedelta(days=1)
        ),
        by_channel=await channels.report_if_any(
            uow, community, last=today - timedelta(days=1), days=PERIOD_DAYS, now=now
        ),
        conversions=await attribution.digest_figures(
            uow, community, first=since, last=today - timedelta(days=1), today=today
        ),
    )


def due_day(schedule: Schedule, timezone: str, now: datetime) -> date | None:
    """The local day of the schedule's latest run within ``DIGEST_GRACE`` before ``now``;
    None when there was none (not time yet, or missed for longer)."""
    runs = runs_between(schedule, now - DIGEST_GRACE, now, timezone)
    return runs[-1].astimezone(ZoneInfo(timezone)).date() if runs else None


async def recipients(
    uow: UnitOfWork, community_id: int, operator_ids: Iterable[int], week: str
) -> list[MemberProfile]:
    """The operators who can be written to (they started the bot and did not block it)
    and whose digest of this week was not queued yet."""
    found: list[MemberProfile] = []
    for operator_id in sorted(set(operator_ids)):
        operator = await uow.members.get(operator_id)
        if operator is None or not operator.writable:
            continue
        if await uow.outbox.status_of(digest_key(community_id, operator_id, week)) is None:
            found.append(operator)
    return found


async def send_due(
    uow_factory: UnitOfWorkFactory, post: DigestPost, now: datetime, schedule: Schedule
) -> int:
    """Queue the digest of every community whose weekly run is due, for each operator who
    has not had it this week; a community's copies are queued in one transaction. Charts
    stored longer than ``ATTACHMENT_DAYS`` are purged first. Returns how many operators'
    digests were queued.
    """
    async with uow_factory() as uow:
        await uow.attachments.purge(now - timedelta(days=ATTACHMENT_DAYS))
        communities = [each for each in await uow.communities.active() if each.digest_enabled]
        await uow.commit()
    queued = 0
    for community in communities:
        today = due_day(schedule, community.timezone, now)
        if today is None:
            continue
        operator_ids = await post.operators(community)  # asks Telegram: outside a transaction
        async with uow_factory() as uow:
            readers = await recipients(uow, community.id, operator_ids, week_label(today))
            if not readers:
                continue
            digest = await compose(uow, community, today, now)
            await uow.commit()  # (composing refreshed the roll-up: no lock while drawing)
            queued += await post.post(uow, digest, readers)
            await uow.commit()
    return queued
