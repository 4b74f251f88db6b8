"""How members are classed: RFM scores and segments, the high-value flag, and tags.

RFM looks at the last ``RFM_WINDOW_DAYS`` local days: recency (days since the last active
day), frequency (active days) and value (points earned + events attended + redemptions,
summed by the caller). Each is scored 1–5 by quintile within the community.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import NamedTuple

RFM_WINDOW_DAYS = 90
HIGH_VALUE_PERCENT = 20


class Segment(enum.StrEnum):
    """A named RFM segment: what the member's scores mean to an operator."""

    CHAMPIONS = "champions"  # recent, frequent, valuable
    LOYAL = "loyal"  # frequent and valuable, fairly recent
    PROMISING = "promising"  # recent, not yet frequent or valuable
    NEW = "new"  # very recent, nothing more yet
    NEEDS_ATTENTION = "needs_attention"  # middling on every count
    AT_RISK = "at_risk"  # was frequent or valuable, not seen for a while
    CANT_LOSE = "cant_lose"  # among the most frequent or valuable, not seen for a while
    HIBERNATING = "hibernating"  # long ago, little
    LOST = "lost"  # longest ago and least, or no activity in the window


# How well a segment is doing, for comparing members; promising and new share a rank.
SEGMENT_RANK: Mapping[Segment, int] = {
    Segment.LOST: 0,
    Segment.HIBERNATING: 1,
    Segment.AT_RISK: 2,
    Segment.CANT_LOSE: 3,
    Segment.NEEDS_ATTENTION: 4,
    Segment.PROMISING: 5,
    Segment.NEW: 5,
    Segment.LOYAL: 6,
    Segment.CHAMPIONS: 7,
}


class RfmFacts(NamedTuple):
    """One member's activity in the RFM window, as SQL aggregates it."""

    member_id: int
    last_active_on: date | None  # latest local day with participation; None if never
    frequency: int  # active local days in the window
    value: int  # points earned + events attended + redemptions in the window


class RfmScore(NamedTuple):
    """One member's scores (1–5, 5 best), segment and high-value flag."""

    member_id: int
    recency_days: int | None  # days since the last active day; None: none in the window
    recency: int
    frequency: int
    value: int
    segment: Segment
    high_value: bool


def recency_days(last_active_on: date | None, today: date) -> int | None:
    """Days since the last active day (0: today); None when not within the RFM window."""
    if last_active_on is None:
        return None
    days = (today - last_active_on).days
    return days if 0 <= days < RFM_WINDOW_DAYS else None


def quintile_scores(keys: Sequence[int]) -> list[int]:
    """Scores 1–5 of each key among all of them (higher key, higher score); ties share one.

    A key's score is 1 + ⌊5·p⌋ with p its mid-rank percentile: (members strictly below +
    half of those equal) / members. With 5 distinct keys that is 1, 2, 3, 4, 5; with 10,
    two of each; and all-equal keys score 3, the middle. Fewer than 5 members spread as
    evenly as that allows: one member scores 3; two score 2 and 4; three 1, 3 and 5.
    """
    count = len(keys)
    equal = Counter(keys)
    below: dict[int, int] = {}
    seen = 0
    for key in sorted(equal):
        below[key] = seen
        seen += equal[key]
    # 2·below + equal < 2·count, so the score never passes 5
    return [1 + 5 * (2 * below[key] + equal[key]) // (2 * count) for key in keys]


def segment_for(recency: int, frequency: int, value: int) -> Segment:
    """The segment of a member's scores, on the common R × F grid with FM for F.

    FM is the mean of the frequency and value scores, rounded half up, so that value counts
    as much as frequency. Then, by recency R and FM:

    - R 5, FM 4–5: champions; R 5, FM 2–3: promising; R 5, FM 1: new;
    - R 4, FM 4–5: loyal; R 4, FM 1–3: promising;
    - R 3, FM 4–5: loyal; R 3, FM 1–3: needs attention;
    - R 1–2, FM 5: can't lose; R 1–2, FM 3–4: at risk;
    - R 1, FM 1: lost; otherwise R 1–2, FM 1–2: hibernating.

    That is the widely used R × F map with "about to sleep" folded into needs attention,
    "potential loyalists" into promising, and lost split off hibernating. A member at least
    as good on R and FM is never in a lower-ranked segment (SEGMENT_RANK).
    """
    fm = (frequency + value + 1) // 2
    if recency >= 3 and fm >= 4:
        return Segment.CHAMPIONS if recency == 5 else Segment.LOYAL
    if recency == 5:
        return Segment.NEW if fm == 1 else Segment.PROMISING
    if recency == 4:
        return Segment.PROMISING
    if recency == 3:
        return Segment.NEEDS_ATTENTION
    if fm == 5:
        return Segment.CANT_LOSE
    if fm >= 3:
        return Segment.AT_RISK
    return Segment.LOST if recency == 1 and fm == 1 else Segment.HIBERNATING


def high_value_members(values: Mapping[int, int], percent: int = HIGH_VALUE_PERCENT) -> set[int]:
    """Members in the top ``percent`` by value (member id → value), ties included.

    The cut is the value of the k-th best member, k = ⌊members · percent / 100⌋ but at least
    one; everyone at or above it with a positive value is high-value. Nobody is when every
    value is 0.
    """
    if not values:
        return set()
    ranked = sorted(values.values(), reverse=True)
    cut = ranked[max(1, len(ranked) * percent // 100) - 1]
    return {member for member, value in values.items() if value >= cut and value > 0}


def score_community(members: Sequence[RfmFacts], today: date) -> list[RfmScore]:
    """RFM scores, segments and the high-value flag of every member, in the given order.

    ``members`` is the whole community (current members). Each score is a quintile of that
    community (``quintile_scores``), so it says how a member compares, not how much they
    did. Doing nothing is scored absolutely: no activity in the window scores recency and
    frequency 1, a value of 0 scores value 1 — such members are never lifted to the middle
    by ties, and a member with no activity at all is ``lost``.
    """
    window = [_in_window(member, today) for member in members]
    # a smaller recency is better; members without activity rank below everyone
    r_scores = quintile_scores([-RFM_WINDOW_DAYS if d is None else -d for d, _, _ in window])
    f_scores = quintile_scores([frequency for _, frequency, _ in window])
    m_scores = quintile_scores([value for _, _, value in window])
    high_value = high_value_members(
        {member.member_id: value for member, (_, _, value) in zip(members, window, strict=True)}
    )
    scores: list[RfmScore] = []
    for member, (days, _, value), r, f, m in zip(
        members, window, r_scores, f_scores, m_scores, strict=True
    ):
        if days is None:  # doing nothing scores 1, however many did nothing with you
            r, f = 1, 1
        if value == 0:
            m = 1
        scores.append(
            RfmScore(
                member_id=member.member_id,
                recency_days=days,
                recency=r,
                frequency=f,
                value=m,
                segment=segment_for(r, f, m),
                high_value=member.member_id in high_value,
            )
        )
    return scores


def _in_window(member: RfmFacts, today: date) -> tuple[int | None, int, int]:
    """(recency days or None, frequency, value), with no activity as (None, 0, value)."""
    days = recency_days(member.last_active_on, today)
    if days is None or member.frequency <= 0:
        return None, 0, max(0, member.value)
    return days, member.frequency, max(0, member.value)


class DayPart(enum.StrEnum):
    """A part of the local day, as a tag."""

    NIGHT = "night"  # 00:00–05:59
    MORNING = "morning"  # 06:00–11:59
    AFTERNOON = "afternoon"  # 12:00–17:59
    EVENING = "evening"  # 18:00–23:59


class WeekPart(enum.StrEnum):
    """Weekdays or the weekend, as a tag."""

    WEEKDAY = "weekday"
    WEEKEND = "weekend"


MIN_EVENTS_FOR_HABITS = 10  # fewer activities than this say nothing about habits
DOMINANT_PERCENT = 50  # a day part is preferred when it holds more than this share
WEEK_PART_RATIO = 2  # … and a week part when its per-day rate is this many times the other's


DAY_PARTS = tuple(DayPart)  # the order of day-part counts: night, morning, afternoon, evening
HOURS_PER_DAY_PART = 6


def day_part_of(hour: int) -> DayPart:
    """The part of the day a local hour (0–23) falls in."""
    return DAY_PARTS[hour // HOURS_PER_DAY_PART]


def preferred_day_part(
    part_counts: Sequence[int], *, min_events: int = MIN_EVENTS_FOR_HABITS
) -> DayPart | None:
    """The part of the day holding most of a member's activity, from 4 counts of
    activities in local hours 0–5, 6–11, 12–17 and 18–23 (``DAY_PARTS`` order).

    None with fewer than ``min_events`` activities or when no part holds more than
    ``DOMINANT_PERCENT`` of them.
    """
    if len(part_counts) != len(DAY_PARTS):
        raise ValueError("expected 4 day-part counts: night, morning, afternoon, evening")
    total = sum(part_counts)
    if total < max(1, min_events):
        return None
    best = max(range(len(DAY_PARTS)), key=part_counts.__getitem__)
    return DAY_PARTS[best] if part_counts[best] * 100 > DOMINANT_PERCENT * total else None


def preferred_week_part(
    weekdays: int, weekend: int, *, min_events: int = MIN_EVENTS_FOR_HABITS
) -> WeekPart | None:
    """Weekdays or weekend, from the activities on local weekdays (Monday to Friday) and
    on weekend days, comparing activity per day.

    The weekend has 2 days and the week 5, so a part is preferred when its activity per day
    is at least ``WEEK_PART_RATIO`` times the other's; None with fewer than ``min_events``.
    """
    if min(weekdays, weekend) < 0:
        raise ValueError("activity counts cannot be negative")
    if weekdays + weekend < max(1, min_events):
        return None
    # per-day rates weekend / 2 and weekdays / 5, compared without fractions
    if weekend * 5 >= WEEK_PART_RATIO * weekdays * 2:
        return WeekPart.WEEKEND
    if weekdays * 2 >= WEEK_PART_RATIO * weekend * 5:
        return WeekPart.WEEKDAY
    return None


def segment_entered_on(
    segment: Segment | None,
    today: date,
    *,
    stored: Segment | None = None,
    stored_since: date | None = None,
) -> date | None:
    """The local day a member entered ``segment``: kept from the stored standing while the
    segment stays the same, ``today`` when it changed or first appears; None without one."""
    if segment is None:
        return None
    if segment is stored and stored_since is not None:
        return stored_since
    return today


MAX_TAG_LENGTH = 32


def tag_slug(text: str) -> str | None:
    """A tag name: lowercase letters and digits (any script) joined by single hyphens.

    "VIP Owner" → "vip-owner", "track_day" → "track-day", "车主" → "车主"; at most
    ``MAX_TAG_LENGTH`` characters; None when nothing is left.
    """
    slug = re.sub(r"[\W_]+", "-", text.casefold()).strip("-")
    slug = slug[:MAX_TAG_LENGTH].rstrip("-")
    return slug or None


def tags_for(
    *,
    interests: Iterable[str] = (),
    tier: str | None = None,
    day_part: DayPart | None = None,
    week_part: WeekPart | None = None,
    operator_tags: Iterable[str] = (),
) -> tuple[str, ...]:
    """A member's tags: automatic ones, then the operators', as slugs without repeats.

    ``interests`` are the quiz topics a member mastered and the event types they attended;
    ``tier`` the honour tier's name (None to leave it out). Automatic tags come in a fixed
    order — tier, interests (sorted), day part, week part — then operator tags, sorted; a
    tag that is both appears once, among the automatic ones.
    """
    ordered = [
        *_slugs([tier] if tier is not None else []),
        *sorted(_slugs(interests)),
        *_slugs(part for part in (day_part, week_part) if part is not None),
        *sorted(_slugs(operator_tags)),
    ]
    return tuple(dict.fromkeys(ordered))


def _slugs(texts: Iterable[str]) -> list[str]:
    return [slug for slug in map(tag_slug, texts) if slug is not None]
