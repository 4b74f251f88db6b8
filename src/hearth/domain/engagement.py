"""Where a member stands after a recompute: stage, RFM scores and tags, stored per membership.

The per-membership values here and in ``lifecycle`` and ``rfm`` are named tuples rather
than frozen dataclasses: the nightly recompute builds several for each of a community's
thousands of members, and a tuple is immutable too but several times cheaper to build.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from hearth.domain.lifecycle import MemberActivity, StageState
from hearth.domain.rfm import RfmFacts, RfmScore, Segment


class MemberStanding(NamedTuple):
    """One membership's recomputed standing, as stored for operators to read."""

    member_id: int
    state: StageState
    rfm: RfmScore | None  # None for members who left: RFM ranks current members only
    tags: tuple[str, ...] = ()  # automatic tags (tier, interests, habits), as slugs
    segment_since: date | None = None  # local day the member entered ``rfm.segment``


class PreviousStanding(NamedTuple):
    """What the last recompute stored for a membership: what today's settles against."""

    state: StageState
    segment: Segment | None
    segment_since: date | None


class MemberHabits(NamedTuple):
    """When a member takes part: participation activities in the RFM window, by the local
    part of the day (night, morning, afternoon, evening: ``rfm.DAY_PARTS``) and on local
    weekdays and weekend days. Both split the same activities."""

    day_parts: tuple[int, int, int, int] = (0, 0, 0, 0)
    weekdays: int = 0
    weekend: int = 0


NO_HABITS = MemberHabits()


class MemberFacts(NamedTuple):
    """What the recompute reads about one membership, aggregated by the database."""

    member_id: int
    activity: MemberActivity
    rfm: RfmFacts | None  # None for members who left
    tier: str | None = None  # the honour tier of a current member; None for members who left
    habits: MemberHabits = NO_HABITS
    interests: tuple[str, ...] = ()  # quiz topics mastered and event tags attended, sorted
    previous: PreviousStanding | None = None  # None: never recomputed before
