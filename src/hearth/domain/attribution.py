"""Attribution: did taking part lead to business? Pure arithmetic, no I/O.

For an *occasion* (an event, a calendar month of nudges, a quiz season) the members who
took part are compared with comparable members who did not, over the windows that follow:

- A **take** is a member and an *anchor*, a local day (the event's day, the member's first
  nudge of the month, their first answer of the season). A window of W days is the local
  days ``anchor + 1`` to ``anchor + W``, both included: the anchor's own day never counts
  (a visit that morning was not caused by the event that evening).
- The **share** of a group is the members with at least one conversion in their window
  over the members of the group.
- The **standardised** comparison share is the comparison's share had it the participants'
  mix of lifecycle stages: the sum over stages of (participants' share in that stage) ×
  (comparison's share in that stage). A member's stage is the one they had on their anchor
  day (the last stage change on or before it); members with none yet count as ``new``.
  Stages with participants but no comparison member are left out, and the participants'
  shares are taken among those *covered* (so the weights add up to 1); ``covered`` says
  how many participants that was.
- The **uplift** is the participants' share minus the standardised comparison share, in
  percentage points.
- A window is **complete** when every member's window ended by ``today``; an incomplete
  one holds the counts so far and must be read as such, not as a low figure.

Amounts are in the currency's minor unit (cents, fen), as imported.
"""

from __future__ import annotations

import enum
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from hearth.domain.conversions import ConversionKind
from hearth.domain.lifecycle import Stage
from hearth.domain.quizzes import season_start

WINDOWS = (30, 90)  # days after the anchor
NO_STAGE_YET = Stage.NEW  # the stratum of members the lifecycle recompute has not read yet
DEFAULT_DAYS = 30  # /stats conversions: the period of the totals when none is asked for
MAX_DAYS = 366
_DAYS = re.compile(r"(\d{1,3})d?", re.ASCII)
_KIND_WORDS = frozenset(kind.value for kind in ConversionKind)


class OccasionKind(enum.StrEnum):
    """What members took part in."""

    EVENT = "event"
    NUDGES = "nudges"  # the nudges of one calendar month (a campaign)
    QUIZ = "quiz"  # a quiz season (a calendar quarter)
    EVENTS = "events"  # several events pooled: each attendance is one take


class ComparisonKind(enum.StrEnum):
    """Whom the participants are compared with."""

    OTHERS = "others"  # members of the community then who did not take part
    HOLDOUT = "holdout"  # members the nudges held out at random: the fair comparison


@dataclass(frozen=True, slots=True)
class Occasion:
    """One thing members took part in; ``first`` and ``last`` are the local days it covers.

    ``reference`` names it in files: the event's number, "2026-03" for a month of nudges,
    "2026-Q1" for a season. ``from_rsvps``: an event with no check-ins recorded, whose
    participants are the members who said they were going."""

    kind: OccasionKind
    reference: str
    first: date
    last: date
    title: str = ""
    from_rsvps: bool = False


class Take(NamedTuple):
    """A member counted from a local day: a participant, or a member compared with them."""

    member_id: int
    anchor: date


class MemberConversion(NamedTuple):
    """One conversion of a member; ``amount_minor`` in the currency's minor unit."""

    occurred_on: date
    kind: ConversionKind
    amount_minor: int


@dataclass(frozen=True, slots=True)
class MembershipSpan:
    """A member's time in the community, in local days (``left_on`` None: still there)."""

    member_id: int
    joined_on: date
    left_on: date | None

    def member_on(self, day: date) -> bool:
        """Joined on or before ``day`` and had not left before it."""
        return self.joined_on <= day and (self.left_on is None or self.left_on >= day)


class History:
    """What attribution reads of a community: each member's stage changes and conversions.

    ``stages``: (member, local day, new stage) in any order; ``conversions``: (member,
    conversion) in any order. Lookups are binary searches per member."""

    __slots__ = ("_conversions", "_stages")

    def __init__(
        self,
        stages: Iterable[tuple[int, date, Stage]],
        conversions: Iterable[tuple[int, MemberConversion]],
    ) -> None:
        by_member: defaultdict[int, list[tuple[date, Stage]]] = defaultdict(list)
        for member_id, day, stage in stages:
            by_member[member_id].append((day, stage))
        # member → (days, stages), oldest first (a stable sort: same-day changes keep order)
        self._stages: dict[int, tuple[list[date], list[Stage]]] = {}
        for member_id, changes in by_member.items():
            changes.sort(key=lambda change: change[0])
            self._stages[member_id] = ([day for day, _ in changes], [new for _, new in changes])
        sales: defaultdict[int, list[MemberConversion]] = defaultdict(list)
        for member_id, conversion in conversions:
            sales[member_id].append(conversion)
        # member → (days, conversions), oldest first
        self._conversions: dict[int, tuple[list[date], list[MemberConversion]]] = {}
        for member_id, found in sales.items():
            found.sort()
            self._conversions[member_id] = ([each.occurred_on for each in found], found)

    def stage_on(self, member_id: int, day: date) -> Stage:
        """The member's stage on ``day``: their last change on or before it, else new."""
        changes = self._stages.get(member_id)
        if changes is None:
            return NO_STAGE_YET
        index = bisect_right(changes[0], day)
        return changes[1][index - 1] if index else NO_STAGE_YET

    def conversions_in(
        self,
        member_id: int,
        after: date,
        until: date,
        kinds: Collection[ConversionKind] | None = None,
    ) -> list[MemberConversion]:
        """The member's conversions on the days after ``after`` up to ``until`` (included),
        of ``kinds`` (None: every kind)."""
        sales = self._conversions.get(member_id)
        if sales is None:
            return []
        days = sales[0]
        first, last = bisect_right(days, after), bisect_right(days, until)
        if first == last:
            return []
        found = sales[1][first:last]
        return found if kinds is None else [each for each in found if each.kind in kinds]


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """A group over one window: members, members with a conversion, their conversions and
    the conversions' amount (minor unit)."""

    members: int
    converted: int
    conversions: int
    amount_minor: int

    @property
    def share(self) -> float | None:
        """Converted members over members, 0–1; None for an empty group."""
        return self.converted / self.members if self.members else None


@dataclass(frozen=True, slots=True)
class Comparison:
    """The participants against one comparison group over one window.

    ``standardised_share`` (0–1) is the comparison's share with the participants' stage
    mix over the ``covered`` participants (those in stages the comparison has members in);
    ``uplift_points`` the participants' share minus it, in percentage points. Both None when
    nobody is covered."""

    kind: ComparisonKind
    group: GroupFigures
    standardised_share: float | None
    covered: int
    uplift_points: float | None


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """One window of ``days`` days after each member's anchor. ``ends_on``: the last day of
    the latest member's window; ``complete``: it is over (``ends_on`` ≤ today)."""

    days: int
    ends_on: date
    complete: bool
    participants: GroupFigures
    comparisons: tuple[Comparison, ...]

    def comparison(self, kind: ComparisonKind) -> Comparison | None:
        return next((each for each in self.comparisons if each.kind is kind), None)


@dataclass(frozen=True, slots=True)
class Attribution:
    """An occasion's figures, one per window (``WINDOWS``); ``kinds`` the conversions
    counted (None: every kind)."""

    occasion: Occasion
    windows: tuple[WindowFigures, ...]
    kinds: frozenset[ConversionKind] | None = None

    def window(self, days: int) -> WindowFigures | None:
        return next((each for each in self.windows if each.days == days), None)


def attribute(
    occasion: Occasion,
    participants: Sequence[Take],
    comparisons: Mapping[ComparisonKind, Sequence[Take]],
    history: History,
    *,
    today: date,
    windows: Sequence[int] = WINDOWS,
    kinds: Collection[ConversionKind] | None = None,
) -> Attribution:
    """The occasion's figures for each window of ``windows`` days, as of the local day
    ``today``, counting conversions of ``kinds`` (None: every kind). See the module."""
    wanted = None if kinds is None else frozenset(kinds)
    everyone = [*participants, *(take for group in comparisons.values() for take in group)]
    latest = max((take.anchor for take in everyone), default=occasion.last)
    longest = timedelta(days=max(windows, default=0))
    mine = _read(participants, history, longest, wanted)
    theirs = {kind: _read(group, history, longest, wanted) for kind, group in comparisons.items()}
    figures = []
    for days in windows:
        ends_on = latest + timedelta(days=days)
        my_strata = _strata(mine, days)
        share = _total(my_strata).share
        compared = []
        for kind, read in theirs.items():
            their_strata = _strata(read, days)
            standardised, covered = _standardised(my_strata, their_strata)
            uplift = None if standardised is None or share is None else (share - standardised) * 100
            compared.append(Comparison(kind, _total(their_strata), standardised, covered, uplift))
        figures.append(
            WindowFigures(days, ends_on, ends_on <= today, _total(my_strata), tuple(compared))
        )
    return Attribution(occasion, tuple(figures), wanted)


def attribute_plan(
    plan: Plan,
    history: History,
    *,
    today: date,
    windows: Sequence[int] = WINDOWS,
    kinds: Collection[ConversionKind] | None = None,
) -> Attribution:
    """``attribute`` of a ``Plan``."""
    return attribute(
        plan.occasion,
        plan.participants,
        plan.comparisons,
        history,
        today=today,
        windows=windows,
        kinds=kinds,
    )


# A take as the windows need it: its stage, its anchor, its conversions in the longest window.
_Read = tuple[Stage, date, list[MemberConversion]]


def _read(
    takes: Sequence[Take],
    history: History,
    longest: timedelta,
    kinds: Collection[ConversionKind] | None,
) -> list[_Read]:
    """Each take's stage and conversions, read once for every window."""
    stage_on, conversions_in = history.stage_on, history.conversions_in
    return [
        (
            stage_on(member_id, anchor),
            anchor,
            conversions_in(member_id, anchor, anchor + longest, kinds),
        )
        for member_id, anchor in takes
    ]


def _strata(takes: Sequence[_Read], days: int) -> dict[Stage, GroupFigures]:
    """The takes' figures over a window of ``days``, per stage on their anchor day."""
    counts: defaultdict[Stage, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    window = timedelta(days=days)
    for stage, anchor, conversions in takes:
        each = counts[stage]
        each[0] += 1
        if not conversions:
            continue
        last = anchor + window
        found = [conversion for conversion in conversions if conversion.occurred_on <= last]
        if found:
            each[1] += 1
            each[2] += len(found)
            each[3] += sum(conversion.amount_minor for conversion in found)
    return {stage: GroupFigures(*values) for stage, values in counts.items()}


def _total(strata: Mapping[Stage, GroupFigures]) -> GroupFigures:
    groups = strata.values()
    return GroupFigures(
        members=sum(group.members for group in groups),
        converted=sum(group.converted for group in groups),
        conversions=sum(group.conversions for group in groups),
        amount_minor=sum(group.amount_minor for group in groups),
    )


def _standardised(
    participants: Mapping[Stage, GroupFigures], comparison: Mapping[Stage, GroupFigures]
) -> tuple[float | None, int]:
    """The comparison's share weighted by the participants' stages it covers, and how many
    participants those stages hold."""
    covered = sum(group.members for stage, group in participants.items() if stage in comparison)
    if not covered:
        return None, 0
    share = sum(
        group.members / covered * (comparison[stage].share or 0.0)
        for stage, group in participants.items()
        if stage in comparison
    )
    return share, covered


# -- who takes part, who is compared


class Plan(NamedTuple):
    """An occasion with its participants and the groups they are compared with."""

    occasion: Occasion
    participants: list[Take]
    comparisons: dict[ComparisonKind, list[Take]]


def members_on(spans: Iterable[MembershipSpan], day: date) -> list[int]:
    """The members of the community on the local day ``day``."""
    return [span.member_id for span in spans if span.member_on(day)]


def non_participants(
    spans: Iterable[MembershipSpan], day: date, excluded: Collection[int]
) -> list[Take]:
    """Members of the community on ``day`` who are not in ``excluded``, anchored on it."""
    return [
        Take(member_id, day) for member_id in members_on(spans, day) if member_id not in excluded
    ]


def lower_median(days: Iterable[date]) -> date:
    """The middle day of ``days`` (the earlier of the two middle ones for an even count)."""
    ordered = sorted(days)
    if not ordered:
        raise ValueError("no days")
    return ordered[(len(ordered) - 1) // 2]


def event_plan(
    event_id: int,
    title: str,
    day: date,
    participants: Collection[int],
    spans: Sequence[MembershipSpan],
    *,
    from_rsvps: bool,
) -> Plan:
    """An event on the local day ``day``: its participants (who checked in, or who said
    they were going when nobody's check-in was recorded) against the members of the
    community that day who did not take part, all anchored on the event's day."""
    occasion = Occasion(OccasionKind.EVENT, str(event_id), day, day, title, from_rsvps)
    taking_part = set(participants)
    return Plan(
        occasion,
        [Take(member_id, day) for member_id in sorted(taking_part)],
        {ComparisonKind.OTHERS: non_participants(spans, day, taking_part)},
    )


def campaign_plan(
    month: date,
    nudged: Mapping[int, date],
    held_out: Mapping[int, date],
    spans: Sequence[MembershipSpan],
) -> Plan:
    """The nudges of the month of ``month``: the members sent one, from their first send,
    against the holdout (members whose holdout contact was confirmed that month, from its
    day; a member nudged that month is no holdout), and against the other members of the
    community on the participants' median day who were neither."""
    first, last = month_of(month)
    occasion = Occasion(OccasionKind.NUDGES, f"{first:%Y-%m}", first, last)
    participants = [Take(member_id, day) for member_id, day in sorted(nudged.items())]
    holdout = [
        Take(member_id, day)
        for member_id, day in sorted(held_out.items())
        if member_id not in nudged
    ]
    comparisons = {ComparisonKind.HOLDOUT: holdout}
    if participants:
        day = lower_median(take.anchor for take in participants)
        comparisons[ComparisonKind.OTHERS] = non_participants(spans, day, {*nudged, *held_out})
    return Plan(occasion, participants, comparisons)


def season_plan(
    season: date, answered: Mapping[int, date], spans: Sequence[MembershipSpan]
) -> Plan:
    """The quiz season of ``season``: members who answered, from their first answer in it,
    against the members of the community on the participants' median day who did not."""
    first, last = season_of(season)
    quarter = (first.month - 1) // 3 + 1
    occasion = Occasion(OccasionKind.QUIZ, f"{first.year}-Q{quarter}", first, last)
    participants = [Take(member_id, day) for member_id, day in sorted(answered.items())]
    comparisons: dict[ComparisonKind, list[Take]] = {ComparisonKind.OTHERS: []}
    if participants:
        day = lower_median(take.anchor for take in participants)
        comparisons[ComparisonKind.OTHERS] = non_participants(spans, day, answered)
    return Plan(occasion, participants, comparisons)


def pooled_plan(plans: Sequence[Plan], first: date, last: date) -> Plan:
    """Several events as one: every participation and every comparison member of each
    event is one take (a member at two events counts twice, each time from that day)."""
    occasion = Occasion(
        OccasionKind.EVENTS, f"{first.isoformat()}..{last.isoformat()}", first, last
    )
    participants = [take for plan in plans for take in plan.participants]
    compared = [take for plan in plans for take in plan.comparisons.get(ComparisonKind.OTHERS, [])]
    return Plan(occasion, participants, {ComparisonKind.OTHERS: compared})


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of the calendar month of ``day``."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def season_of(day: date) -> tuple[date, date]:
    """The first and last day of the quiz season (calendar quarter) of ``day``."""
    first = season_start(day)
    following = season_start(first + timedelta(days=93))
    return first, following - timedelta(days=1)


def first_days(moments: Iterable[tuple[int, date]]) -> dict[int, date]:
    """Each member's earliest day among (member, day) pairs."""
    found: dict[int, date] = {}
    for member_id, day in moments:
        if member_id not in found or day < found[member_id]:
            found[member_id] = day
    return found


def best_event(attributions: Iterable[Attribution], days: int = WINDOWS[0]) -> Attribution | None:
    """The event whose complete ``days``-day window shows the highest uplift against the
    members who did not take part; None when no event has such a window yet."""
    best: tuple[float, Attribution] | None = None
    for attribution in attributions:
        window = attribution.window(days)
        compared = window.comparison(ComparisonKind.OTHERS) if window is not None else None
        if (
            attribution.occasion.kind is not OccasionKind.EVENT
            or window is None
            or not window.complete
            or compared is None
            or compared.uplift_points is None
        ):
            continue
        if best is None or compared.uplift_points > best[0]:
            best = (compared.uplift_points, attribution)
    return None if best is None else best[1]


# -- /stats conversions


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What ``/stats conversions`` asks for: the totals' days, and the kind counted (None:
    every kind)."""

    days: int = DEFAULT_DAYS
    kind: ConversionKind | None = None


def report_request(arguments: str | None) -> ReportRequest | None:
    """Read "[days] [service|purchase|trade_in]" in any order ("90", "90d", "service");
    None when a word is neither, or the days are not 1 to ``MAX_DAYS``."""
    days, kind = DEFAULT_DAYS, None
    seen_days = seen_kind = False
    for word in (arguments or "").lower().split():
        match = _DAYS.fullmatch(word)
        if match is not None and not seen_days and 1 <= int(match.group(1)) <= MAX_DAYS:
            days, seen_days = int(match.group(1)), True
        elif word.replace("-", "_") in _KIND_WORDS and not seen_kind:
            kind, seen_kind = ConversionKind(word.replace("-", "_")), True
        else:
            return None
    return ReportRequest(days, kind)
