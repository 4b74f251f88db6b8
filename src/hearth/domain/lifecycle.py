"""Lifecycle stages with hysteresis, and activation: where a member stands and since when.

All counts are in the community's local days. A stage is first read from a member's activity
(``raw_stage``), then settled against the stage stored for them (``settle_stage``): a member
moves to a more engaged stage at once but to a less engaged one only after the reading has
held for ``demotion_days``, so that nobody flaps between ``mature`` and ``declining``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import NamedTuple

from hearth.domain.activity import ActivityKind


class Stage(enum.StrEnum):
    """A member's lifecycle stage in one community."""

    NEW = "new"  # joined recently: guidance and a quick first win
    GROWING = "growing"  # taking part, not yet for long
    MATURE = "mature"  # active on many days over a long time
    DECLINING = "declining"  # recent activity well below the member's own baseline
    DORMANT = "dormant"  # no activity for a month
    CHURNED = "churned"  # left the group, or no activity for a quarter


# How engaged each stage is: moving up is a promotion, moving down a demotion.
# New and growing share a rank, so that graduating from new is neither.
ENGAGEMENT_RANK: Mapping[Stage, int] = {
    Stage.CHURNED: 0,
    Stage.DORMANT: 1,
    Stage.DECLINING: 2,
    Stage.NEW: 3,
    Stage.GROWING: 3,
    Stage.MATURE: 4,
}

# Demotions into these stages are facts about inactivity or leaving, taken at once.
IMMEDIATE_STAGES = frozenset({Stage.DORMANT, Stage.CHURNED})


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    """Stage thresholds of one community (operators may change them); all in days or weeks."""

    new_days: int = 14  # joined within this many days (today included): new
    dormant_days: int = 30  # this many days since the last activity: dormant
    churned_days: int = 90  # … and this many: churned
    recent_days: int = 14  # the recent window compared with the baseline
    baseline_days: int = 56  # the baseline: this many days before the recent window
    decline_percent: int = 50  # declining: recent active days below this share of baseline
    decline_min_baseline: int = 2  # baseline's active days per recent window to judge at all
    mature_window_weeks: int = 12  # mature: of this many 7-day weeks ending today …
    mature_active_weeks: int = 8  # … at least this many had activity …
    mature_member_days: int = 60  # … and a member for at least this many days
    demotion_days: int = 7  # a demotion takes effect after holding this many days
    activation_days: int = 7  # activated: first meaningful action within this many days

    def __post_init__(self) -> None:
        negative = [name for name, value in self.settings().items() if value < 0]
        if negative:
            raise ValueError(f"lifecycle thresholds cannot be negative: {', '.join(negative)}")
        if min(self.recent_days, self.baseline_days, self.mature_window_weeks) < 1:
            raise ValueError("windows must be at least one day or week long")
        if not self.dormant_days < self.churned_days:
            raise ValueError("dormant_days must be below churned_days")
        if self.mature_active_weeks > self.mature_window_weeks:
            raise ValueError("mature_active_weeks cannot exceed mature_window_weeks")

    def settings(self) -> dict[str, int]:
        """The thresholds as operators see and change them: name → whole number."""
        return {item.name: getattr(self, item.name) for item in fields(self)}


def lifecycle_rules_from_settings(values: Mapping[str, object] | None) -> LifecycleRules:
    """Rules from settings (threshold name → whole number); the defaults for the rest.

    Strict on purpose: a misspelt name or a value that is not a whole number would
    otherwise leave a default silently in force. Raises ValueError naming every unknown
    name and bad value, or the contradiction (negative, dormant not before churned).
    """
    defaults = LifecycleRules()
    if not values:
        return defaults
    known = defaults.settings()
    unknown = sorted(name for name in values if name not in known)
    if unknown:
        raise ValueError(
            f"unknown lifecycle rules: {', '.join(unknown)} (known: {', '.join(known)})"
        )
    chosen: dict[str, int] = {}
    malformed: list[str] = []
    for name, value in sorted(values.items()):
        if isinstance(value, int) and not isinstance(value, bool):
            chosen[name] = value
        else:
            malformed.append(name)
    if malformed:
        raise ValueError(f"lifecycle rules must be whole numbers: {', '.join(malformed)}")
    return replace(defaults, **chosen)


class MemberActivity(NamedTuple):
    """What the stage rules need to know about one membership, as of one local day.

    Every field is cheap to aggregate in SQL from the activity rows (participation kinds
    only) grouped by local day; the windows are the ones in ``LifecycleRules``.
    """

    joined_on: date  # local day of the latest join
    left_on: date | None  # local day the member left; None while a member
    last_active_on: date | None  # latest local day with participation; None if never
    active_days_recent: int  # days with participation in the last ``recent_days`` days
    active_days_baseline: int  # … in the ``baseline_days`` days before those
    active_weeks: int  # 7-day weeks ending today, of the last ``mature_window_weeks``, active


def raw_stage(activity: MemberActivity, today: date, rules: LifecycleRules) -> Stage:
    """The stage a member's activity shows today, before hysteresis.

    In order, the first that applies:

    - ``churned``: left the group (on or before today), or no activity for ``churned_days``;
    - ``dormant``: no activity for ``dormant_days``. Days without activity are counted from
      the last active day, or from the join when that is later (a rejoin starts afresh), so
      last active exactly 30 days ago means dormant today;
    - ``new``: joined fewer than ``new_days`` days ago (13 days ago is new, 14 is not);
    - ``declining``: see ``is_declining``;
    - ``mature``: at least ``mature_active_weeks`` active weeks and a member for at least
      ``mature_member_days`` days;
    - ``growing``: everyone else.
    """
    if activity.left_on is not None and activity.left_on <= today:
        return Stage.CHURNED
    idle = idle_days(activity, today)
    if idle >= rules.churned_days:
        return Stage.CHURNED
    if idle >= rules.dormant_days:
        return Stage.DORMANT
    member_days = (today - activity.joined_on).days
    if member_days < rules.new_days:
        return Stage.NEW
    if is_declining(activity, today, rules):
        return Stage.DECLINING
    if (
        activity.active_weeks >= rules.mature_active_weeks
        and member_days >= rules.mature_member_days
    ):
        return Stage.MATURE
    return Stage.GROWING


def idle_days(activity: MemberActivity, today: date) -> int:
    """Days since the last active day, or since joining when that is later (0: today)."""
    since = activity.joined_on
    if activity.last_active_on is not None and activity.last_active_on > since:
        since = activity.last_active_on
    return max(0, (today - since).days)


def is_declining(activity: MemberActivity, today: date, rules: LifecycleRules) -> bool:
    """Whether recent activity fell well below the member's own baseline.

    The baseline is the member's active days in the ``baseline_days`` before the recent
    window, averaged over a window as long as the recent one; only the days they were a
    member count (a baseline shorter than the recent window counts as that long, so a few
    first days do not make one). Declining when that average is at least
    ``decline_min_baseline`` (rarely active members are never declining) and the recent
    active days are below ``decline_percent`` of it. With the defaults and a full baseline:
    at least 8 active days in the 8 weeks, and fewer than an eighth of them in the last 14.
    """
    recent, baseline = rules.recent_days, activity.active_days_baseline
    baseline_end = today - timedelta(days=recent)
    member_days = min(rules.baseline_days, (baseline_end - activity.joined_on).days + 1)
    if member_days <= 0:
        return False
    span = max(member_days, recent)
    # expected = baseline * recent / span, compared in whole numbers
    if baseline * recent < rules.decline_min_baseline * span:
        return False
    return activity.active_days_recent * 100 * span < rules.decline_percent * baseline * recent


class StageState(NamedTuple):
    """A member's stored stage: since when, and since when a demotion has been pending."""

    stage: Stage
    since: date
    demotion_pending_since: date | None = None


class StageChange(NamedTuple):
    """A recorded move between stages, dated the local day it took effect."""

    old: Stage | None  # None: the member's first stage
    new: Stage
    on: date

    @property
    def is_promotion(self) -> bool:
        return self.old is not None and ENGAGEMENT_RANK[self.new] > ENGAGEMENT_RANK[self.old]

    @property
    def is_demotion(self) -> bool:
        return self.old is not None and ENGAGEMENT_RANK[self.new] < ENGAGEMENT_RANK[self.old]


class StageUpdate(NamedTuple):
    """What to store after today's reading, and the change to record (None: no change)."""

    state: StageState
    change: StageChange | None


def settle_stage(
    stored: StageState | None, raw: Stage, today: date, rules: LifecycleRules
) -> StageUpdate:
    """Today's stored stage from yesterday's and today's raw reading.

    - No stored stage: the raw one, at once.
    - A promotion, or a move between equally engaged stages (new → growing): at once.
    - A demotion to ``dormant`` or ``churned``: at once. Leaving the group is a fact, and
      30 or 90 days without activity already hold for far longer than ``demotion_days``.
    - Any other demotion (mature → growing, mature or growing → declining, …) is pending
      from the first day it is read, and takes effect on the day it has held for
      ``demotion_days`` (first read on day P: demoted on P + 7), to the stage read that day.
      A reading at or above the stored stage in between cancels it.

    Recomputing on the same day with the same reading changes nothing.
    """
    if stored is None:
        return StageUpdate(StageState(raw, today), StageChange(None, raw, today))
    if raw is stored.stage:
        return StageUpdate(StageState(raw, stored.since), None)
    if ENGAGEMENT_RANK[raw] >= ENGAGEMENT_RANK[stored.stage] or raw in IMMEDIATE_STAGES:
        return StageUpdate(StageState(raw, today), StageChange(stored.stage, raw, today))
    pending_since = stored.demotion_pending_since or today
    if (today - pending_since).days >= rules.demotion_days:
        return StageUpdate(StageState(raw, today), StageChange(stored.stage, raw, today))
    return StageUpdate(StageState(stored.stage, stored.since, pending_since), None)


# The first meaningful actions: a member who did one of these has had a first win.
ACTIVATION_KINDS = frozenset({ActivityKind.CHECKIN, ActivityKind.QUIZ_ANSWER, ActivityKind.RSVP})


class Activation(enum.StrEnum):
    """Whether a member made a first meaningful action in time."""

    ACTIVATED = "activated"  # within ``activation_days`` of joining
    LATE = "late"  # after that
    PENDING = "pending"  # not yet, and the window is still open
    MISSED = "missed"  # not yet, and the window has closed


def days_to_activation(joined_at: datetime, first_action_at: datetime | None) -> int | None:
    """Whole 24-hour days from joining to the first meaningful action; None if none yet.

    0 when the action came first (a member Hearth first saw taking part).
    """
    if first_action_at is None:
        return None
    return max(0, (first_action_at - joined_at) // timedelta(days=1))


def activated_within(
    joined_at: datetime, first_action_at: datetime | None, rules: LifecycleRules
) -> bool:
    """Whether the first meaningful action came less than ``activation_days`` after joining."""
    days = days_to_activation(joined_at, first_action_at)
    return days is not None and days < rules.activation_days


def activation(
    joined_at: datetime, first_action_at: datetime | None, now: datetime, rules: LifecycleRules
) -> Activation:
    """A member's activation as of ``now``.

    The headline rate is activated / (activated + late + missed): pending members, whose
    window is still open, are in neither the numerator nor the denominator.
    """
    if activated_within(joined_at, first_action_at, rules):
        return Activation.ACTIVATED
    if first_action_at is not None:
        return Activation.LATE
    if now - joined_at < timedelta(days=rules.activation_days):
        return Activation.PENDING
    return Activation.MISSED
