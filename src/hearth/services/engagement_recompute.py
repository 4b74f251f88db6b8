"""The daily recompute: every membership's lifecycle stage, RFM scores, segment and tags.

The figures come aggregated from SQL (``uow.engagement``); the rules are the pure domain
functions. Recomputing a community twice on the same local day stores the same standings
and records no second change.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from hearth.domain.engagement import MemberStanding
from hearth.domain.lifecycle import (
    LifecycleRules,
    Stage,
    StageChange,
    raw_stage,
    settle_stage,
)
from hearth.domain.members import CommunityProfile
from hearth.domain.points import DEFAULT_TIERS
from hearth.domain.rfm import Segment, score_community, tags_for
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
    no scores. Does not commit.
    """
    engagement = uow.engagement
    facts = await engagement.member_facts(community.id, today, community.timezone, rules)
    stored = await engagement.stage_states(community.id)
    scores = {
        score.member_id: score
        for score in score_community([each.rfm for each in facts if each.rfm is not None], today)
    }

    standings: list[MemberStanding] = []
    changes: list[tuple[int, StageChange]] = []
    stages: Counter[Stage] = Counter()
    segments: Counter[Segment] = Counter()
    tags: dict[str | None, tuple[str, ...]] = {}  # by tier: the same for everyone in one
    for each in facts:
        member_id = each.member_id
        raw = raw_stage(each.activity, today, rules)
        settled = settle_stage(stored.get(member_id), raw, today, rules)
        score = scores.get(member_id)
        tier = each.tier
        if tier not in tags:
            tags[tier] = tags_for(tier=tier if tier != DEFAULT_TIERS[0].name else None)
        standings.append(
            MemberStanding(member_id=member_id, state=settled.state, rfm=score, tags=tags[tier])
        )
        if settled.change is not None:
            changes.append((member_id, settled.change))
        stages[settled.state.stage] += 1
        if score is not None:
            segments[score.segment] += 1
    await engagement.save_standings(community.id, today, standings)
    await engagement.add_changes(community.id, changes)
    return Recomputed(community.id, today, stages, segments, len(changes))


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
