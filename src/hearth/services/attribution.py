"""Attribution: which events, nudge campaigns and quiz seasons were followed by business.

For each occasion, the share of participants with a conversion (service visit, purchase,
trade-in) in the 30 and 90 days after, against comparable members who did not take part
(and, for nudges, against the random holdout), standardised to the participants' mix of
lifecycle stages. The definitions and the arithmetic are in ``domain/attribution.py``;
this module picks the occasions, reads what they need in a few set-based queries per
community, and hands it to the domain. Read-only: nothing here writes.

Used by ``/stats conversions``, the weekly digest, the export and the simulation
(``event_attendance_uplift_on_service_visits``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from hearth.domain.attribution import (
    WINDOWS,
    Attribution,
    ComparisonKind,
    History,
    MembershipSpan,
    OccasionKind,
    Plan,
    WindowFigures,
    attribute_plan,
    best_event,
    campaign_plan,
    event_plan,
    first_days,
    month_of,
    pooled_plan,
    season_of,
    season_plan,
)
from hearth.domain.calendar import local_day, start_of_local_day
from hearth.domain.conversions import ConversionKind
from hearth.domain.members import CommunityProfile
from hearth.services.ports import UnitOfWork

REPORT_EVENTS = 5  # /stats conversions: the latest ended events …
REPORT_CAMPAIGNS = 3  # … the latest months with nudges sent …
REPORT_SEASONS = 2  # … the current quiz season and the one before
CAMPAIGN_MONTHS = 12  # months looked back for the latest campaigns
DIGEST_EVENT_DAYS = 180  # the digest's best event: among events of this many days back
EXPORT_DAYS = 365  # the export: occasions of the last year

Totals = dict[ConversionKind, tuple[int, int]]  # kind → (conversions, amount, minor unit)
ExportCell = str | int | float | Decimal | date | None

# The export's columns: one row per occasion and window; shares 0–1, uplifts in percentage
# points, amounts in the currency's main unit; the holdout's columns are for nudges only.
EXPORT_COLUMNS = (
    "occasion", "reference", "title", "first_day", "last_day", "participants_from",
    "window_days", "window_ends", "complete", "kinds", "participants", "converted", "share",
    "conversions", "amount", "others", "others_converted", "others_share",
    "others_standardised_share", "others_covered", "others_uplift_pp", "holdout",
    "holdout_converted", "holdout_share", "holdout_standardised_share", "holdout_covered",
    "holdout_uplift_pp",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ConversionReport:
    """``/stats conversions``: the conversions of the local days ``first`` to ``last`` by
    kind, then the latest events, nudge campaigns and quiz seasons (latest first).
    ``imported``: the community has any conversion at all; ``kind``: the only kind counted
    (None: every kind)."""

    community: CommunityProfile
    today: date
    first: date
    last: date
    kind: ConversionKind | None
    imported: bool
    totals: Totals
    events: list[Attribution]
    campaigns: list[Attribution]
    seasons: list[Attribution]


@dataclass(frozen=True, slots=True)
class ConversionDigest:
    """The digest's conversions: the local days ``first`` to ``last`` by kind, and the
    recent event with the best uplift over a complete 30-day window (None: no such event)."""

    first: date
    last: date
    totals: Totals
    best_event: Attribution | None


async def report(
    uow: UnitOfWork,
    community: CommunityProfile,
    *,
    days: int,
    today: date,
    kind: ConversionKind | None = None,
) -> ConversionReport:
    """The figures of ``/stats conversions`` as of the community's local day ``today``:
    totals over the ``days`` days ending today; every window as of today."""
    kinds = None if kind is None else {kind}
    first = today - timedelta(days=days - 1)
    imported = await uow.attribution.has_conversions(community.id)
    empty = ConversionReport(community, today, first, today, kind, imported, {}, [], [], [])
    if not imported:
        return empty
    reader = _Reader(uow, community, today)
    events = await reader.event_plans(limit=REPORT_EVENTS)
    months = _months_back(today, CAMPAIGN_MONTHS)
    campaigns = (await reader.campaign_plans(months))[-REPORT_CAMPAIGNS:]
    seasons = await reader.season_plans(_seasons_back(today, REPORT_SEASONS))
    plans = [*events, *reversed(campaigns), *reversed(seasons)]
    found = await reader.attribute(plans, kinds)
    return ConversionReport(
        community,
        today,
        first,
        today,
        kind,
        imported,
        await uow.attribution.conversion_totals(community.id, first, today, kinds),
        found[: len(events)],
        found[len(events) : len(events) + len(campaigns)],
        found[len(events) + len(campaigns) :],
    )


async def digest_figures(
    uow: UnitOfWork, community: CommunityProfile, *, first: date, last: date, today: date
) -> ConversionDigest | None:
    """The digest's conversions section; None when the community has no conversions."""
    if not await uow.attribution.has_conversions(community.id):
        return None
    reader = _Reader(uow, community, today)
    days = WINDOWS[0]
    plans = [  # only events whose first window is over can be the best
        plan
        for plan in await reader.event_plans(since=today - timedelta(days=DIGEST_EVENT_DAYS))
        if plan.occasion.first + timedelta(days=days) <= today
    ]
    return ConversionDigest(
        first,
        last,
        await uow.attribution.conversion_totals(community.id, first, last),
        best_event(await reader.attribute(plans, None, windows=(days,)), days),
    )


async def attributions(
    uow: UnitOfWork, community: CommunityProfile, *, today: date, days: int = EXPORT_DAYS
) -> list[Attribution]:
    """Every event, nudge campaign and quiz season of the ``days`` days before ``today``
    (events that ended before today; months and seasons that began in those days or
    before and end after them), latest first within each kind: the export's rows."""
    since = today - timedelta(days=days)
    reader = _Reader(uow, community, today)
    events = await reader.event_plans(since=since)
    months = _months_between(since, today)
    campaigns = await reader.campaign_plans(months)
    seasons = await reader.season_plans(_seasons_between(since, today))
    return await reader.attribute([*events, *reversed(campaigns), *reversed(seasons)], None)


async def event_attendance_uplift_on_service_visits(
    uow: UnitOfWork,
    community: CommunityProfile,
    *,
    first: date,
    last: date,
    today: date,
    kinds: Collection[ConversionKind] = frozenset({ConversionKind.SERVICE}),
) -> Attribution:
    """The uplift of taking part in events on service visits, every event pooled.

    Every event of the community that started on the local days ``first`` to ``last`` and
    ended before ``today``: each participation (a check-in, or a "going" answer where no
    check-in was recorded) is one take anchored on the event's day, and each member of the
    community that day who did not take part is one comparison take (a member counts once
    per event). The shares, the stage-standardised comparison share and the uplift (in
    percentage points) are then computed over all takes together, for each window of
    ``WINDOWS`` days, counting conversions of ``kinds`` (service visits unless told).
    The result's ``occasion`` is of kind ``EVENTS``; its windows' single comparison is
    ``ComparisonKind.OTHERS``.
    """
    reader = _Reader(uow, community, today)
    plans = [
        plan
        for plan in await reader.event_plans(since=first)
        if first <= plan.occasion.first <= last
    ]
    [pooled] = await reader.attribute([pooled_plan(plans, first, last)], kinds)
    return pooled


_TAKING_PART = {  # the export's participants_from
    OccasionKind.EVENT: "check_ins",
    OccasionKind.EVENTS: "check_ins",
    OccasionKind.NUDGES: "nudged",
    OccasionKind.QUIZ: "answered",
}


def export_row(found: Attribution, window: WindowFigures) -> tuple[ExportCell, ...]:
    """One row of the export (``EXPORT_COLUMNS``): an occasion over one window."""
    occasion = found.occasion
    taking_part = _TAKING_PART[occasion.kind]
    if occasion.from_rsvps:
        taking_part = "rsvp_going"
    kinds = "all" if found.kinds is None else " ".join(sorted(kind.value for kind in found.kinds))
    row: list[ExportCell] = [
        occasion.kind.value,
        occasion.reference,
        occasion.title,
        occasion.first,
        occasion.last,
        taking_part,
        window.days,
        window.ends_on,
        "yes" if window.complete else "no",
        kinds,
        *_group_cells(window.participants.members, window.participants.converted),
        window.participants.conversions,
        Decimal(window.participants.amount_minor).scaleb(-2),
    ]
    for kind in (ComparisonKind.OTHERS, ComparisonKind.HOLDOUT):
        compared = window.comparison(kind)
        if compared is None:
            row += [None] * 6
            continue
        row += [
            *_group_cells(compared.group.members, compared.group.converted),
            _rounded(compared.standardised_share, 4),
            compared.covered,
            _rounded(compared.uplift_points, 2),
        ]
    return tuple(row)


def _group_cells(members: int, converted: int) -> list[ExportCell]:
    return [members, converted, _rounded(converted / members if members else None, 4)]


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


class _Reader:
    """One community's occasions and the history their figures need, read once."""

    def __init__(self, uow: UnitOfWork, community: CommunityProfile, today: date) -> None:
        self.uow = uow
        self.community = community
        self.today = today
        self._spans: list[MembershipSpan] | None = None

    def _day(self, instant: datetime) -> date:
        return local_day(instant, self.community.timezone)

    def _instant(self, day: date) -> datetime:
        return start_of_local_day(day, self.community.timezone)

    async def spans(self) -> list[MembershipSpan]:
        if self._spans is None:
            self._spans = [
                MembershipSpan(
                    member_id,
                    self._day(joined_at),
                    None if left_at is None else self._day(left_at),
                )
                for member_id, joined_at, left_at in await self.uow.attribution.memberships(
                    self.community.id
                )
            ]
        return self._spans

    async def event_plans(
        self, *, limit: int | None = None, since: date | None = None
    ) -> list[Plan]:
        """Events that ended before today (latest first): the last ``limit``, or those that
        started on ``since`` or later."""
        events = await self.uow.attribution.ended_events(
            self.community.id,
            self._instant(self.today),
            starting_from=None if since is None else self._instant(since),
            limit=limit,
        )
        if not events:
            return []
        taking_part = await self.uow.attribution.event_participants(
            [event_id for event_id, _, _ in events]
        )
        spans = await self.spans()
        return [
            event_plan(
                event_id,
                title,
                self._day(starts_at),
                taking_part[event_id][0],
                spans,
                from_rsvps=taking_part[event_id][1],
            )
            for event_id, title, starts_at in events
        ]

    async def campaign_plans(self, months: Sequence[date]) -> list[Plan]:
        """The months of ``months`` (their first days, oldest first) in which nudges were
        sent, oldest first."""
        if not months:
            return []
        boundaries = [*months, month_of(months[-1])[1] + timedelta(days=1)]
        contacts = await self.uow.attribution.nudge_contacts(
            self.community.id, [self._instant(day) for day in boundaries]
        )
        nudged: defaultdict[int, list[tuple[int, date]]] = defaultdict(list)
        held_out: defaultdict[int, list[tuple[int, date]]] = defaultdict(list)
        for period, member_id, is_held_out, first_at in contacts:
            (held_out if is_held_out else nudged)[period].append((member_id, self._day(first_at)))
        spans = await self.spans()
        return [
            campaign_plan(month, first_days(nudged[index]), first_days(held_out[index]), spans)
            for index, month in enumerate(months)
            if nudged[index]
        ]

    async def season_plans(self, seasons: Sequence[date]) -> list[Plan]:
        """The quiz seasons of ``seasons`` (their first days, oldest first)."""
        if not seasons:
            return []
        boundaries = [*seasons, season_of(seasons[-1])[1] + timedelta(days=1)]
        answers = await self.uow.attribution.first_answers(
            self.community.id, [self._instant(day) for day in boundaries]
        )
        answered: defaultdict[int, list[tuple[int, date]]] = defaultdict(list)
        for period, member_id, first_at in answers:
            answered[period].append((member_id, self._day(first_at)))
        spans = await self.spans()
        return [
            season_plan(season, first_days(answered[index]), spans)
            for index, season in enumerate(seasons)
        ]

    async def attribute(
        self,
        plans: Sequence[Plan],
        kinds: Collection[ConversionKind] | None,
        *,
        windows: Sequence[int] = WINDOWS,
    ) -> list[Attribution]:
        """Each plan's figures, reading the stages and conversions they need at once."""
        anchors = [
            take.anchor
            for plan in plans
            for group in (plan.participants, *plan.comparisons.values())
            for take in group
        ]
        if anchors:
            earliest, latest = min(anchors), max(anchors)
            until = min(latest + timedelta(days=max(windows)), self.today)
            history = History(
                await self.uow.attribution.stage_changes(self.community.id, latest),
                await self.uow.attribution.conversions(self.community.id, earliest, until, kinds),
            )
        else:
            history = History([], [])
        return [
            attribute_plan(plan, history, today=self.today, windows=windows, kinds=kinds)
            for plan in plans
        ]


def _months_back(today: date, count: int) -> list[date]:
    """The first days of the ``count`` months up to today's, oldest first."""
    months = [today.replace(day=1)]
    while len(months) < count:
        months.insert(0, (months[0] - timedelta(days=1)).replace(day=1))
    return months


def _months_between(first: date, last: date) -> list[date]:
    """The first days of the months from ``first``'s to ``last``'s, oldest first."""
    months = [first.replace(day=1)]
    while months[-1] < last.replace(day=1):
        months.append(month_of(months[-1])[1] + timedelta(days=1))
    return months


def _seasons_back(today: date, count: int) -> list[date]:
    """The first days of the ``count`` quiz seasons up to today's, oldest first."""
    seasons = [season_of(today)[0]]
    while len(seasons) < count:
        seasons.insert(0, season_of(seasons[0] - timedelta(days=1))[0])
    return seasons


def _seasons_between(first: date, last: date) -> list[date]:
    """The first days of the quiz seasons from ``first``'s to ``last``'s, oldest first."""
    seasons = [season_of(first)[0]]
    while seasons[-1] < season_of(last)[0]:
        seasons.append(season_of(seasons[-1])[1] + timedelta(days=1))
    return seasons
