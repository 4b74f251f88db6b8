"""Reactivation nudges: who gets one, when, with what, and how the uplift is measured.

A member who drifts away (``declining``, ``dormant``, or ``churned`` but still in the group)
starts a *dormancy episode*: the days since their last active day. An episode ends the
moment they take part again, because the next episode is keyed by a later last active day.
Within an episode a member gets at most ``EPISODE_LIMIT`` nudges, never two within
``NUDGE_GAP_DAYS``, escalating from a light reminder to a reason to return to a comeback
offer. A stable random *holdout* per episode gets nothing: the same contacts are recorded for
them, unsent, so that the return rate of nudged members can be compared with theirs.

Everything here is pure: the caller passes the day, the time zone and the facts.
"""

from __future__ import annotations

import enum
import hashlib
import math
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from hearth.domain.calendar import local_day
from hearth.domain.errors import InvalidArgument
from hearth.domain.lifecycle import Stage

NUDGE_GAP_DAYS = 7  # at most one nudge per member per this many days
EPISODE_LIMIT = 3  # at most this many nudges per dormancy episode; then Hearth stops
RETURN_WINDOW_DAYS = 7  # a member who takes part within this many days after a nudge returned
COMEBACK_VALID_DAYS = 7  # comeback bonus points expire after this many days
OFFER_VALID_DAYS = 7  # a comeback offer can be claimed within this many days of its sending
EXPIRY_HORIZON_DAYS = 30  # points expiring within this many days are a reason to return
EVENT_HORIZON_DAYS = 21  # events starting within this many days are a reason to return
STREAK_WORTH_RESTARTING = 3  # a best streak this long is a habit worth restarting
HABIT_MIN_ACTIVITIES = 3  # fewer activities than this: no habitual hour, use the default
LATE_GRACE = timedelta(hours=2)  # a planned nudge not sent within this of its time is dropped
SEND_MINUTE = 30  # nudges go out at half past the chosen hour
DEFAULT_SEND_TIME = time(10, SEND_MINUTE)  # the community default when a member has no habit
PLAN_FROM = time(4, 0)  # each day's plan is made after the nightly recompute (03:30)

# Stages whose members may be nudged; the order is the order of priority among equals.
DRIFTING_STAGES: tuple[Stage, ...] = (Stage.DECLINING, Stage.DORMANT, Stage.CHURNED)


class NudgeKind(enum.StrEnum):
    """What a nudge says: the reason it gives to come back."""

    LIGHT = "light"  # a light "we miss you"
    STREAK = "streak"  # restart the check-in streak you had
    EVENT = "event"  # an upcoming event (matching your interests where there is one)
    EXPIRING = "expiring"  # your points are about to expire
    QUIZ = "quiz"  # a practice quiz on a topic they played and can still get better at
    COMEBACK = "comeback"  # a comeback bonus: points valid for a week


class NudgeStatus(enum.StrEnum):
    """The life of one recorded decision."""

    PLANNED = "planned"  # decided this morning, to be sent at its time
    SENT = "sent"  # queued to the member (the outbox delivers it)
    HELD_OUT = "held_out"  # the holdout's contact: recorded, never sent
    SKIPPED = "skipped"  # eligible, but not sent: see the reason


class SkipReason(enum.StrEnum):
    """Why a member was not nudged. The first group is only counted (``/nudges preview``);
    the second is recorded in ``nudge`` because the member was eligible that day."""

    NOT_DRIFTING = "not_drifting"  # stage is not declining, dormant or churned
    LEFT = "left"  # no longer in the group
    NOT_STARTED = "not_started"  # never started the bot: cannot be written to
    UNREACHABLE = "unreachable"  # blocked the bot, or personal data erased
    OPTED_OUT = "opted_out"  # turned nudges off
    ACTIVE_TODAY = "active_today"  # took part today already
    TOO_SOON = "too_soon"  # nudged (or held out) within NUDGE_GAP_DAYS
    EPISODE_DONE = "episode_done"  # EPISODE_LIMIT contacts in this episode: stop
    NO_TIME = "no_time"  # quiet hours leave no time to send today
    # recorded
    DAILY_CAP = "daily_cap"  # the community's daily cap was reached (high-value first)
    PAUSED = "paused"  # an operator paused nudges
    LATE = "late"  # the sender could not send within LATE_GRACE of the planned time


RECORDED_REASONS = frozenset(
    {
        SkipReason.DAILY_CAP,
        SkipReason.PAUSED,
        SkipReason.LATE,
        SkipReason.ACTIVE_TODAY,
        SkipReason.OPTED_OUT,
        SkipReason.UNREACHABLE,
        SkipReason.LEFT,
    }
)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours in which nothing is sent: from ``start`` (inclusive) to ``end``
    (exclusive), across midnight when ``start > end``; none at all when they are equal."""

    start: int = 21
    end: int = 9

    def __post_init__(self) -> None:
        if not (0 <= self.start <= 23 and 0 <= self.end <= 23):
            raise ValueError("quiet hours are whole hours from 0 to 23")

    def contains(self, moment: time) -> bool:
        """Whether a local time of day falls inside the quiet hours."""
        hour = moment.hour
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end

    def next_start(self, after: datetime, timezone: str) -> datetime | None:
        """The first moment (UTC) at or after ``after`` that is inside the quiet hours in
        ``timezone``: ``after`` itself when they have begun; None when there are none."""
        if self.start == self.end:
            return None
        zone = ZoneInfo(timezone)
        local = after.astimezone(zone)
        if self.contains(local.time()):
            return after
        for offset in (0, 1):
            start = datetime.combine(local.date() + timedelta(days=offset), time(self.start))
            begins = start.replace(tzinfo=zone).astimezone(UTC)
            if begins > after:
                return begins
        raise AssertionError("quiet hours begin within a day")  # pragma: no cover

    @property
    def label(self) -> str:
        return f"{self.start:02d}:00–{self.end:02d}:00"


DEFAULT_QUIET_HOURS = QuietHours()
# The choices a member has in /settings (the default first).
QUIET_HOURS_CHOICES: tuple[QuietHours, ...] = (
    DEFAULT_QUIET_HOURS,
    QuietHours(22, 8),
    QuietHours(20, 10),
    QuietHours(23, 7),
)


@dataclass(frozen=True, slots=True)
class NudgeSettings:
    """A community's nudge settings, as its operators set them."""

    paused: bool = False
    daily_cap: int = 50  # at most this many nudges sent per local day, community-wide
    holdout_percent: int = 10  # share of episodes that get nothing, to measure the uplift
    comeback_points: int = 30  # the comeback bonus

    def __post_init__(self) -> None:
        if self.daily_cap < 0:
            raise ValueError("the daily cap cannot be negative")
        if not 0 <= self.holdout_percent <= 50:
            raise ValueError("the holdout is a share from 0 to 50 percent")
        if self.comeback_points < 0:
            raise ValueError("the comeback bonus cannot be negative")


DEFAULT_NUDGE_SETTINGS = NudgeSettings()


class Contact(NamedTuple):
    """A nudge sent, or a holdout's unsent contact, as the policy needs to know it."""

    day: date  # local day
    episode: date
    kind: NudgeKind | None  # None for a holdout contact
    template: str | None  # which template was used, e.g. "streak:2" or "custom:17"


class UpcomingEvent(NamedTuple):
    event_id: int
    title: str
    starts_at: datetime
    tag: str | None


class NudgeFacts(NamedTuple):
    """What is true about a member that a nudge could mention (only true facts are used)."""

    best_streak: int = 0  # the longest check-in streak they ever had
    expiring_points: int = 0  # points that expire on ``expiring_on``
    expiring_on: date | None = None  # the first local day within EXPIRY_HORIZON_DAYS with some
    event: UpcomingEvent | None = None  # the best upcoming event for them
    event_matches_interest: bool = False
    quiz_topic: str | None = None  # a topic they played, not mastered, with questions to practise


class Candidate(NamedTuple):
    """One membership the planner looks at, with everything the policy decides on."""

    member_id: int
    stage: Stage
    high_value: bool
    value_score: int | None
    joined_on: date
    last_active_on: date | None
    in_group: bool
    started_bot: bool
    reachable: bool
    nudges_enabled: bool
    quiet_hours: QuietHours
    habitual_hour: int | None  # the member's most frequent local hour of activity
    contacts: tuple[Contact, ...]  # this member's past contacts in this community, oldest first
    facts: NudgeFacts = NudgeFacts()
    # UTC: when the member was (or is planned to be) contacted lately, in any community
    contacted_at: tuple[datetime, ...] = ()


class Decision(NamedTuple):
    """What the plan decided for one member today."""

    member_id: int
    episode: date
    status: NudgeStatus  # PLANNED, HELD_OUT or SKIPPED (and SENT, read back from storage)
    step: int  # 1, 2 or 3 within the episode
    kind: NudgeKind | None  # what to say (None for holdout and skipped)
    due_at: datetime | None  # UTC; when to send (or when it would have been sent)
    reason: SkipReason | None = None
    offer_points: int | None = None  # the comeback bonus offered (COMEBACK only, when above 0)


class DayPlan(NamedTuple):
    """The day's decisions, and how many members were left out for each reason."""

    decisions: tuple[Decision, ...]
    left_out: Mapping[SkipReason, int]


def episode_of(joined_on: date, last_active_on: date | None) -> date:
    """The dormancy episode's key: the last active day (or the join, if later or never)."""
    if last_active_on is None or last_active_on < joined_on:
        return joined_on
    return last_active_on


def in_holdout(community_id: int, member_id: int, episode: date, percent: int) -> bool:
    """Whether this episode belongs to the holdout: stable across runs and processes."""
    if percent <= 0:
        return False
    key = f"{community_id}:{member_id}:{episode.isoformat()}".encode()
    bucket = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % 10_000
    return bucket < percent * 100


def habitual_hour(local_hours: Iterable[int]) -> int | None:
    """The local hour a member is most often active in; None with too little to go on.

    Ties go to the earlier hour, so that the answer does not depend on the order read.
    """
    counts = [0] * 24
    for hour in local_hours:
        counts[hour] += 1
    if sum(counts) < HABIT_MIN_ACTIVITIES:
        return None
    best = max(counts)
    return counts.index(best)


def send_time(
    day: date,
    timezone: str,
    quiet: QuietHours,
    habit: int | None,
    default: time = DEFAULT_SEND_TIME,
) -> datetime | None:
    """When (UTC) to nudge on a local day: the member's habitual hour, else the community
    default, else the first half hour after their quiet hours; None if all are quiet.
    """
    choices = [time(habit, SEND_MINUTE)] if habit is not None else []
    choices += [default, time(quiet.end, SEND_MINUTE)]
    zone = ZoneInfo(timezone)
    for choice in choices:
        if quiet.contains(choice):
            continue
        local = datetime.combine(day, choice, tzinfo=zone)
        # A local time skipped by a DST change does not round-trip: take the next choice.
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local.replace(
            tzinfo=None
        ):
            continue
        return local.astimezone(UTC)
    return None


def left_out_reason(candidate: Candidate, today: date, timezone: str) -> SkipReason | None:
    """Why a member cannot be nudged today (a local day in ``timezone``, the community's)
    at all, or None when they may be."""
    if candidate.stage not in DRIFTING_STAGES:
        return SkipReason.NOT_DRIFTING
    if not candidate.in_group:
        return SkipReason.LEFT
    if not candidate.started_bot:
        return SkipReason.NOT_STARTED
    if not candidate.reachable:
        return SkipReason.UNREACHABLE
    if not candidate.nudges_enabled:
        return SkipReason.OPTED_OUT
    if candidate.last_active_on is not None and candidate.last_active_on >= today:
        return SkipReason.ACTIVE_TODAY
    episode = episode_of(candidate.joined_on, candidate.last_active_on)
    since = days_since_contact(candidate, today, timezone)
    if since is not None and since < NUDGE_GAP_DAYS:
        return SkipReason.TOO_SOON
    if episode_step(candidate.contacts, episode) > EPISODE_LIMIT:
        return SkipReason.EPISODE_DONE
    return None


def days_since_contact(candidate: Candidate, today: date, timezone: str) -> int | None:
    """Local calendar days from the member's latest contact, in this community or any
    other, to ``today`` (contacts elsewhere count by their day in ``timezone``); None
    when they were never contacted. Calendar days, not hours: a nudge last Monday evening
    and one this Monday morning are a week apart."""
    days = [contact.day for contact in candidate.contacts]
    days += [local_day(moment, timezone) for moment in candidate.contacted_at]
    return (today - max(days)).days if days else None


def episode_step(contacts: Sequence[Contact], episode: date) -> int:
    """The number the next contact of this episode would have (1 for the first)."""
    return 1 + sum(1 for contact in contacts if contact.episode == episode)


def choose_kind(step: int, facts: NudgeFacts, last_kind: NudgeKind | None) -> NudgeKind:
    """What to say at an escalation step: a light reminder, then the best true reason to
    return (not the one said last time when there is another), then a comeback offer."""
    if step <= 1:
        return NudgeKind.LIGHT
    if step >= EPISODE_LIMIT:
        return NudgeKind.COMEBACK
    reasons = reasons_to_return(facts)
    fresh = [kind for kind in reasons if kind is not last_kind]
    return (fresh or reasons or [NudgeKind.LIGHT])[0]


def reasons_to_return(facts: NudgeFacts) -> list[NudgeKind]:
    """The true reasons this member has to come back, the most personal first: points they
    would lose, an event they would like, a topic they can practise, the habit they had."""
    reasons: list[NudgeKind] = []
    if facts.expiring_points > 0 and facts.expiring_on is not None:
        reasons.append(NudgeKind.EXPIRING)
    if facts.event is not None and facts.event_matches_interest:
        reasons.append(NudgeKind.EVENT)
    if facts.quiz_topic is not None:
        reasons.append(NudgeKind.QUIZ)
    if facts.best_streak >= STREAK_WORTH_RESTARTING:
        reasons.append(NudgeKind.STREAK)
    if facts.event is not None and not facts.event_matches_interest:
        reasons.append(NudgeKind.EVENT)
    return reasons


def choose_template(kind: NudgeKind, available: Sequence[str], seen: Iterable[str | None]) -> str:
    """A template of ``kind``: the first the member has not seen yet, else the one seen
    longest ago, and never the one they saw last when there is another."""
    if not available:
        raise ValueError(f"no template for {kind}")
    history = [template for template in seen if template is not None]
    unseen = [template for template in available if template not in history]
    if unseen:
        return unseen[0]
    last = history[-1] if history else None
    oldest = sorted(
        (template for template in available if template != last or len(set(available)) == 1),
        key=lambda template: max(i for i, seen_one in enumerate(history) if seen_one == template),
    )
    return oldest[0]


def priority(candidate: Candidate) -> tuple[int, int, int, int]:
    """Sort key: high-value members first, then by value score, stage and id."""
    return (
        0 if candidate.high_value else 1,
        -(candidate.value_score or 0),
        DRIFTING_STAGES.index(candidate.stage) if candidate.stage in DRIFTING_STAGES else 9,
        candidate.member_id,
    )


def plan_day(
    community_id: int,
    candidates: Iterable[Candidate],
    today: date,
    timezone: str,
    settings: NudgeSettings,
    *,
    sent_today: int = 0,
    default_time: time = DEFAULT_SEND_TIME,
) -> DayPlan:
    """Decide today's nudges for one community.

    Members who may be nudged are taken high-value first. Each gets a skip when the
    operators paused nudges or the daily cap (which ``sent_today`` nudges already used) is
    reached, else a contact at its escalation step: a holdout contact (recorded, never
    sent, not counted against the cap) when the episode is held out, else a planned nudge
    at their send time.
    """
    left_out: dict[SkipReason, int] = {}
    decisions: list[Decision] = []
    budget = max(settings.daily_cap - sent_today, 0)
    for candidate in sorted(candidates, key=priority):
        reason = left_out_reason(candidate, today, timezone)
        due = None
        if reason is None:
            due = send_time(
                today, timezone, candidate.quiet_hours, candidate.habitual_hour, default_time
            )
            if due is None:
                reason = SkipReason.NO_TIME
        if reason is not None or due is None:
            reason = reason or SkipReason.NO_TIME
            left_out[reason] = left_out.get(reason, 0) + 1
            continue
        episode = episode_of(candidate.joined_on, candidate.last_active_on)
        step = episode_step(candidate.contacts, episode)
        # Pause and cap first, for the holdout too: it must be drawn from the members who
        # would have been nudged, or the uplift compares unlike groups.
        skip = SkipReason.PAUSED if settings.paused else None
        if skip is None and budget <= 0:
            skip = SkipReason.DAILY_CAP
        if skip is not None:
            decisions.append(
                Decision(candidate.member_id, episode, NudgeStatus.SKIPPED, step, None, due, skip)
            )
            continue
        if in_holdout(community_id, candidate.member_id, episode, settings.holdout_percent):
            decisions.append(
                Decision(candidate.member_id, episode, NudgeStatus.HELD_OUT, step, None, due)
            )
            continue
        budget -= 1
        # The reason given last time: a light reminder or a comeback offer is not one.
        last_kind = next(
            (
                contact.kind
                for contact in reversed(candidate.contacts)
                if contact.kind not in (None, NudgeKind.LIGHT, NudgeKind.COMEBACK)
            ),
            None,
        )
        kind = choose_kind(step, candidate.facts, last_kind)
        # The offer is fixed when planned: what the nudge says is what a claim credits.
        offer = settings.comeback_points if kind is NudgeKind.COMEBACK else 0
        decisions.append(
            Decision(
                candidate.member_id,
                episode,
                NudgeStatus.PLANNED,
                step,
                kind,
                due,
                offer_points=offer or None,
            )
        )
    return DayPlan(tuple(decisions), left_out)


def send_check(
    due_at: datetime,
    now: datetime,
    *,
    timezone: str,
    quiet: QuietHours,
    paused: bool,
    in_group: bool,
    writable: bool,
    nudges_enabled: bool,
    active_today: bool,
) -> SkipReason | None:
    """Whether a planned nudge may go now (None) or why it is dropped, checked at its time:
    a member may have come back, opted out or blocked the bot since the morning."""
    if paused:
        return SkipReason.PAUSED
    if not in_group:
        return SkipReason.LEFT
    if not writable:
        return SkipReason.UNREACHABLE
    if not nudges_enabled:
        return SkipReason.OPTED_OUT
    if active_today:
        return SkipReason.ACTIVE_TODAY
    local_now = now.astimezone(ZoneInfo(timezone)).time()
    if now - due_at > LATE_GRACE or quiet.contains(local_now):
        return SkipReason.LATE
    return None


def send_deadline(due_at: datetime, now: datetime, *, timezone: str, quiet: QuietHours) -> datetime:
    """The latest moment (UTC) a nudge planned for ``due_at`` and queued at ``now`` may
    still reach the member: within ``LATE_GRACE`` of its time, and before their quiet hours
    begin. A backed-up outbox drops it then rather than send it late at night."""
    latest = due_at + LATE_GRACE
    quiet_from = quiet.next_start(now, timezone)
    return latest if quiet_from is None else min(latest, quiet_from)


# -- templates


# The facts each kind's templates may use, as {placeholders}; every kind has {name} and
# {community}.
TEMPLATE_FIELDS: Mapping[NudgeKind, frozenset[str]] = {
    NudgeKind.LIGHT: frozenset({"name", "community", "days"}),
    NudgeKind.STREAK: frozenset({"name", "community", "streak"}),
    NudgeKind.EVENT: frozenset({"name", "community", "event", "date"}),
    NudgeKind.EXPIRING: frozenset({"name", "community", "points", "date"}),
    NudgeKind.QUIZ: frozenset({"name", "community", "topic"}),
    NudgeKind.COMEBACK: frozenset({"name", "community", "bonus", "days"}),
}
TEMPLATE_LIMIT = 600  # characters of an operator's template


def check_template(kind: NudgeKind, text: str) -> str:
    """An operator's template, stripped, or InvalidArgument naming what is wrong."""
    text = text.strip()
    if not text:
        raise InvalidArgument("empty")
    if len(text) > TEMPLATE_LIMIT:
        raise InvalidArgument("too_long")
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError as error:
        raise InvalidArgument("braces") from error
    # "{}", "{points:>999999}" or "{name!r}" would be formatted as written: only {fact}.
    if any(not name or spec or conversion for name, spec, conversion in fields):
        raise InvalidArgument("braces")
    names = {name for name, _, _ in fields}
    unknown = sorted(names - TEMPLATE_FIELDS[kind])
    if unknown:
        raise InvalidArgument("unknown:" + ",".join(unknown))
    return text


# -- outcomes


class ReturnRate(NamedTuple):
    """Of ``matured`` members (or, per kind, contacts) whose return window is over, how many
    ``returned``; ``waiting`` ones are still within their window and in neither count."""

    matured: int
    returned: int
    waiting: int = 0

    @property
    def rate(self) -> float | None:
        return self.returned / self.matured if self.matured else None


class Uplift(NamedTuple):
    """Return rate of nudged minus held-out members, with a 95% confidence interval."""

    difference: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def uplift(nudged: ReturnRate, holdout: ReturnRate, z: float = 1.96) -> Uplift | None:
    """The difference of two return rates with a Wald interval; None without both groups.

    The Wald interval assumes independent outcomes, so the rates must be over members, one
    outcome each (``member_returns``), not over contacts: one member's several contacts
    are alike and would narrow the interval falsely. Counting each member once is simpler
    than a standard error clustered by member, and makes the outcomes independent again.
    """
    if nudged.rate is None or holdout.rate is None:
        return None
    p1, p2 = nudged.rate, holdout.rate
    spread = z * math.sqrt(p1 * (1 - p1) / nudged.matured + p2 * (1 - p2) / holdout.matured)
    difference = p1 - p2
    return Uplift(difference, difference - spread, difference + spread)


class MemberContacts(NamedTuple):
    """One member's contacts of one group (nudged or held out) in a period, summed up."""

    member_id: int
    held_out: bool
    first_at: datetime  # UTC; the first of these contacts
    matured: int  # … of them whose return window (RETURN_WINDOW_DAYS) is over
    returned: int  # … of those, how many the member returned after


class MemberReturns(NamedTuple):
    """The return rates over members: nudged members' and the holdout's."""

    nudged: ReturnRate
    holdout: ReturnRate


def member_returns(contacts: Iterable[MemberContacts]) -> MemberReturns:
    """Each member counts once, in the group of their first contact in the period (the
    holdout is drawn per episode, so a member's episodes can fall in both groups).

    A member is matured once one of their contacts' return window is over, and returned if
    any of their matured contacts, of either group, led to a return. A member whose contacts
    are all still within their window is ``waiting``: their outcome is not known yet, so
    they count neither way.
    """
    by_member: dict[int, list[MemberContacts]] = {}
    for each in contacts:
        by_member.setdefault(each.member_id, []).append(each)
    tallies = {False: [0, 0, 0], True: [0, 0, 0]}  # held out? -> matured, returned, waiting
    for rows in by_member.values():
        first = min(rows, key=lambda row: (row.first_at, row.held_out))
        tally = tallies[first.held_out]
        if not any(row.matured for row in rows):
            tally[2] += 1
            continue
        tally[0] += 1
        tally[1] += int(any(row.returned for row in rows))
    return MemberReturns(ReturnRate(*tallies[False]), ReturnRate(*tallies[True]))


# -- what storage hands back


BUILTIN_VARIANTS = 3  # built-in templates per kind ("light:0" … "light:2"), in the catalogue


def builtin_templates(kind: NudgeKind) -> list[str]:
    return [f"{kind.value}:{index}" for index in range(BUILTIN_VARIANTS)]


def custom_template(template_id: int) -> str:
    return f"custom:{template_id}"


class NudgePreference(NamedTuple):
    """A member's own choice: nudges on or off, and their quiet hours."""

    enabled: bool = True
    quiet: QuietHours = DEFAULT_QUIET_HOURS


class NudgeTemplate(NamedTuple):
    """An operator's template for one kind of nudge in one community."""

    id: int
    kind: NudgeKind
    text: str


class NudgeRecord(NamedTuple):
    """One stored decision and what came of it."""

    id: int
    community_id: int
    member_id: int
    planned_on: date  # local day of the decision
    episode: date
    step: int
    status: NudgeStatus
    kind: NudgeKind | None
    reason: SkipReason | None
    due_at: datetime | None
    template: str | None = None
    event_id: int | None = None
    sent_at: datetime | None = None
    clicked_at: datetime | None = None
    returned_at: datetime | None = None
    opted_out_at: datetime | None = None
    offer_points: int | None = None  # the comeback bonus this nudge offers


class KindOutcome(NamedTuple):
    """What came of one kind of nudge (or of the holdout, ``kind`` None)."""

    kind: NudgeKind | None
    contacts: int  # sent (or held out)
    matured: int  # … at least RETURN_WINDOW_DAYS ago: their return window is over
    returned: int  # … of those, the member took part within RETURN_WINDOW_DAYS
    clicked: int
    opted_out: int


class NudgeOutcomes(NamedTuple):
    """A community's nudges since a day: per kind, the holdout, the skips, and the return
    rates over members that the uplift compares."""

    by_kind: tuple[KindOutcome, ...]  # sent nudges, one per kind that was sent
    holdout: KindOutcome
    skipped: Mapping[SkipReason, int]
    planned: int  # planned and not sent yet
    members: MemberReturns = MemberReturns(ReturnRate(0, 0), ReturnRate(0, 0))  # the uplift's

    @property
    def sent(self) -> KindOutcome:
        """All sent nudges together."""
        rows = self.by_kind
        return KindOutcome(
            None,
            sum(row.contacts for row in rows),
            sum(row.matured for row in rows),
            sum(row.returned for row in rows),
            sum(row.clicked for row in rows),
            sum(row.opted_out for row in rows),
        )


def return_rate(outcome: KindOutcome) -> ReturnRate:
    """The return rate over contacts whose return window is over (per kind: contacts, not
    members, so no interval is drawn from it)."""
    return ReturnRate(outcome.matured, outcome.returned, outcome.contacts - outcome.matured)


class NudgeMessage(NamedTuple):
    """A nudge ready to render: what to say, with which template, about which facts."""

    nudge_id: int
    kind: NudgeKind
    template: str  # a built-in template id ("streak:1") or "custom:<id>"
    custom_text: str | None  # the operator's template text for "custom:<id>"
    days_away: int  # local days since the member last took part (or joined)
    facts: NudgeFacts
    bonus: int  # the comeback bonus (points), for COMEBACK
