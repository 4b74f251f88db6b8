"""Where a member stands after a recompute: stage, RFM scores and tags, stored per membership."""

from __future__ import annotations

from dataclasses import dataclass

from hearth.domain.lifecycle import MemberActivity, StageState
from hearth.domain.rfm import RfmFacts, RfmScore


@dataclass(frozen=True, slots=True)
class MemberStanding:
    """One membership's recomputed standing, as stored for operators to read."""

    member_id: int
    state: StageState
    rfm: RfmScore | None  # None for members who left: RFM ranks current members only
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What the recompute reads about one membership, aggregated by the database."""

    member_id: int
    activity: MemberActivity
    rfm: RfmFacts | None  # None for members who left
    tier: str | None = None  # the honour tier of a current member; None for members who left
