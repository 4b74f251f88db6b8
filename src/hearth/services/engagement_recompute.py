"""The daily recompute: every membership's lifecycle stage, RFM scores, segment and tags.

The figures come aggregated from SQL (``uow.engagement``); the rules are the pure domain
functions. Recomputing a community twice on the same local day stores the same standings
and records no second change.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from hearth.domain.calendar import local_day
from hearth.domain.engagement import MemberFacts, MemberStanding
from hearth.domain.lifecycle import (
    LifecycleRules,
    Stage,
    StageChange,
    raw_stage,
    settle_stage,
)
from hearth.domain.members import CommunityProfile
from hearth.domain.points import DEFAULT_TIERS
from hearth.domain.rfm import (
    DayPart,
    Segment,
    WeekPart,
    preferred_day_part,
    preferred_week_part,
    score_community,
    segment_entered_on,
    tags_for,
)
from hearth.services.ports import UnitOfWork, UnitOfWorkFactory

# The local hour from which a community's day is recomputed (quiet, and yesterday complete).
RECOMPUTE_HOUR = 3


@dataclass(frozen=True, slots=True)
class Recomputed:
    """What one community's recompute found: members per stage and segment, changes."""

    community_id: int
    day: date
    stages: Counter[Stage] = field(default_factory=Counter)
    segments: Counter[Segment] = field(default_factory=Counter)
    changes: int = 0

    @property
    def members(self) -> int:
        return sum(self.stages.values())


async def recompute(
    uow: UnitOfWork, community: CommunityProfile, today: date, rules: LifecycleRules
) -> Recomputed:
    """Recompute and store every membership's standing as of the local day ``today``.

    Stages settle against the stored ones (hysteresis); each stage change is recorded with
    its day. RFM ranks current members only; members who left keep a stage (churned) and
    no scores or tags; members who had their data erased get no tags. A member keeps the
    day they entered their segment while it stays the same. Does not commit.
    """
    with _cycle_collector_paused():
        return await _recompute(uow, community, today, rules)


async def _recompute(
    uow: UnitOfWork, community: CommunityProfile, today: date, rules: LifecycleRules
) -> Recomputed:
    facts = await uow.engagement.member_facts(community.id, today, community.timezone, rules)
    forgotten = await uow.engagement.forgotten_members(community.id)
    standings, changes, found = _settle(community.id, facts, today, rules, forgotten)
    await uow.engagement.save_standings(community.id, today, standings)
    await uow.engagement.add_changes(community.id, changes)
    return found  # the standings are freed here, before the collector runs again


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a community's standings are built.

    They are several small objects per member, all alive until written and none in a
    cycle (reference counting frees them): left on, the collector runs full collections of
    the whole heap over and over as they pile up, a fifth of the recompute's time on the
    lifecycle benchmark. Other tasks of the process run meanwhile without it for a moment,
    which costs them nothing. Restored as it was, also on errors.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _settle(
    community_id: int,
    facts: list[MemberFacts],
    today: date,
    rules: LifecycleRules,
    forgotten: frozenset[int] = frozenset(),
) -> tuple[list[MemberStanding], list[tuple[int, StageChange]], Recomputed]:
    """Every membership's standing, the stage changes, and what they add up to. Members who
    had their personal data erased get no tags: tags are personal data (``/forget_me``)."""
    # scores come in the order of the current members' facts
    scores = iter(score_community([each.rfm for each in facts if each.rfm is not None], today))
    tags = _AutomaticTags()
    standings: list[MemberStanding] = []
    changes: list[tuple[int, StageChange]] = []
    stages: Counter[Stage] = Counter()
    segments: Counter[Segment] = Counter()
    for each in facts:
        member_id = each.member_id
        previous = each.previous
        settled = settle_stage(
            None if previous is None else previous.state,
            raw_stage(each.activity, today, rules),
            today,
            rules,
        )
        score = None if each.rfm is None else next(scores)
        segment = None if score is None else score.segment
        since = segment_entered_on(
            segment,
            today,
            stored=None if previous is None else previous.segment,
            stored_since=None if previous is None else previous.segment_since,
        )
        standings.append(
            MemberStanding(
                member_id,
                settled.state,
                score,
                () if member_id in forgotten else tags.of(each),
                segment_since=since,
            )
        )
        if settled.change is not None:
            changes.append((member_id, settled.change))
        stages[settled.state.stage] += 1
        if segment is not None:
            segments[segment] += 1
    return standings, changes, Recomputed(community_id, today, stages, segments, len(changes))


class _AutomaticTags:
    """A current member's automatic tags: honour tier (but the first, which everyone
    holds), interests, preferred part of the day and of the week (``rfm.tags_for``).

    Members share a handful of combinations: each is slugged and ordered once.
    """

    def __init__(self) -> None:
        self._known: dict[
            tuple[str | None, tuple[str, ...], DayPart | None, WeekPart | None], tuple[str, ...]
        ] = {}

    def of(self, facts: MemberFacts) -> tuple[str, ...]:
        if facts.rfm is None:  # left the community: no longer classed
            return ()
        habits = facts.habits
        key = (
            None if facts.tier == DEFAULT_TIERS[0].name else facts.tier,
            facts.interests,
            preferred_day_part(habits.day_parts),
            preferred_week_part(habits.weekdays, habits.weekend),
        )
        found = self._known.get(key)
        if found is None:
            tier, interests, day_part, week_part = key
            found = self._known[key] = tags_for(
                interests=interests, tier=tier, day_part=day_part, week_part=week_part
            )
        return found


async def recompute_due(
    uow_factory: UnitOfWorkFactory, now: datetime, rules: LifecycleRules | None = None
) -> list[Recomputed]:
    """Recompute each active community whose local day has reached ``RECOMPUTE_HOUR`` and
    that was not recomputed on that local day yet; one transaction per community.

    Run hourly: every community is recomputed once a local day, soon after its own 03:00,
    and a day missed while the bot was down is caught up at the next run.
    """
    rules = rules or LifecycleRules()
    async with uow_factory() as uow:
        communities = await uow.communities.active()
    done: list[Recomputed] = []
    for community in communities:
        local = now.astimezone(ZoneInfo(community.timezone))
        if local.hour < RECOMPUTE_HOUR:
            continue
        today = local.date()
        async with uow_factory() as uow:
            last = await uow.engagement.last_computed_on(community.id)
            if last is not None and last >= today:
                continue
            done.append(await recompute(uow, community, today, rules))
            await uow.commit()
    return done


async def recompute_now(
    uow_factory: UnitOfWorkFactory,
    now: datetime,
    rules: LifecycleRules | None = None,
    *,
    community_id: int | None = None,
) -> list[Recomputed]:
    """Recompute at once, on demand, as of each community's local day at ``now``: every
    active community, or only ``community_id`` (active or not; none if unknown). One
    transaction per community; the nightly run of the same day then finds nothing to do.
    """
    rules = rules or LifecycleRules()
    async with uow_factory() as uow:
        if community_id is None:
            communities = await uow.communities.active()
        else:
            found = await uow.communities.get(community_id)
            communities = [] if found is None else [found]
    done: list[Recomputed] = []
    for community in communities:
        async with uow_factory() as uow:
            today = local_day(now, community.timezone)
            done.append(await recompute(uow, community, today, rules))
            await uow.commit()
    return done
