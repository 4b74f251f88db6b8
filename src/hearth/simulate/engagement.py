"""Engagement in the simulation: the nightly recompute on the virtual clock, and how the
stages it settled on compare with the habits each synthetic member was built with.

The habits are known only to the simulation; the bot sees nothing but the updates. So the
cross-table of habit × stage is a plausibility check an operator can read: members built
to fade out should end up declining, dormant or churned, steady ones mature or growing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hearth.bot.app import Hearth
from hearth.domain.calendar import local_day
from hearth.domain.lifecycle import LifecycleRules, Stage
from hearth.scheduler import jobs
from hearth.services import engagement_recompute
from hearth.simulate.community import SyntheticCommunity, SyntheticMember
from hearth.simulate.programme import Action

# The habits the synthetic community gives its members, in the order the report prints them.
HABITS = ("steady", "fading", "quiet", "left", "newcomer")


def habit_of(member: SyntheticMember, days: int) -> str:
    """The habit a synthetic member was built with, as of the simulation's last day."""
    if member.leave_day is not None and member.leave_day < days:
        return "left"
    if member.join_day is not None and member.join_day >= days - 14:
        return "newcomer"
    if member.drift_per_day > 0:
        return "fading"
    if member.messages_per_day <= 0.05 and member.checkin_habit == 0:
        return "quiet"
    return "steady"


@dataclass(frozen=True, slots=True)
class EngagementFigures:
    """Members per stage, and per habit and stage, after the last night's recompute."""

    recomputes: int  # nightly recomputes that ran
    stages: Counter[Stage] = field(default_factory=Counter)
    by_habit: dict[str, Counter[Stage]] = field(default_factory=dict)


def nightly_recompute(hearth: Hearth, runs: list[int]) -> Action:
    """The scheduler's hourly engagement job, run once at the simulated night's quiet hour."""

    async def action() -> int:
        runs.append(await jobs.recompute_engagement(hearth.uow_factory, hearth.clock))
        return 0

    return action


async def engagement_figures(
    hearth: Hearth, community: SyntheticCommunity, days: int, recomputes: int
) -> EngagementFigures:
    """Recompute once more on demand, as an operator can (the last night's run did not see
    the last day), then count the stored stages overall and by each member's habit."""
    async with hearth.uow_factory() as uow:
        profile = await uow.communities.get(community.chat_id)
        assert profile is not None, "the bot never registered the community"
        today = local_day(hearth.clock.now(), profile.timezone)
        await engagement_recompute.recompute(uow, profile, today, LifecycleRules())
        await uow.commit()
        states = await uow.engagement.stage_states(community.chat_id)
    stages: Counter[Stage] = Counter(state.stage for state in states.values())
    by_habit: dict[str, Counter[Stage]] = {habit: Counter() for habit in HABITS}
    for member in community.members:
        state = states.get(member.id)
        if state is not None:
            by_habit[habit_of(member, days)][state.stage] += 1
    return EngagementFigures(recomputes, stages, by_habit)
