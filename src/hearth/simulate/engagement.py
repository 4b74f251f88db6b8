"""Engagement in the simulation: the nightly recompute on the virtual clock, and how the
stages it settled on compare with the habits each synthetic member was built with.

The habits are known only to the simulation; the bot sees nothing but the updates. So the
cross-table of habit × stage is a plausibility check an operator can read: members built
to fade out should end up declining, dormant or churned, steady ones mature or growing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from hearth.bot.app import Hearth
from hearth.domain.calendar import local_day
from hearth.domain.lifecycle import LifecycleRules, Stage
from hearth.domain.rfm import Segment
from hearth.domain.schedules import schedule_from_spec
from hearth.scheduler import jobs
from hearth.services import engagement_recompute
from hearth.simulate.botapi import BotApiStandIn
from hearth.simulate.community import SyntheticCommunity, SyntheticMember
from hearth.simulate.programme import Action
from hearth.storage.engagement import MembershipStageRow

# The habits the synthetic community gives its members, in the order the report prints them.
# "revived": a member a nudge brought back (whatever they were built as), see simulate/nudges.
HABITS = ("steady", "fading", "quiet", "revived", "left", "newcomer")
LURKER_RATE = 0.05  # messages per day of a member built as a lurker (simulate/community)


def habit_of(member: SyntheticMember, days: int, revived: bool = False) -> str:
    """The habit a synthetic member was built with, as of the simulation's last day."""
    if member.leave_day is not None and member.leave_day < days:
        return "left"
    if member.join_day is not None and member.join_day >= days - 14:
        return "newcomer"
    if revived:
        return "revived"
    if member.drift_per_day > 0:
        # Fading needs something to fade from: a lurker who drifts stays quiet.
        return "fading" if member.messages_per_day > LURKER_RATE else "quiet"
    if member.messages_per_day <= LURKER_RATE and member.checkin_habit == 0:
        return "quiet"
    return "steady"


@dataclass(frozen=True, slots=True)
class EngagementFigures:
    """Members per stage, and per habit and stage, after the last night's recompute."""

    recomputes: int  # nightly recomputes that ran
    stages: Counter[Stage] = field(default_factory=Counter)
    by_habit: dict[str, Counter[Stage]] = field(default_factory=dict)
    segments: Counter[Segment] = field(default_factory=Counter)  # current members
    segments_by_habit: dict[str, Counter[Segment]] = field(default_factory=dict)
    high_value: int = 0


def weekly_digest(hearth: Hearth, queued: list[int]) -> Action:
    """The scheduler's digest job, run once a day at the digest's local hour: it queues the
    digest on the day the schedule names (``HEARTH_DIGEST_SCHEDULE``) and nothing otherwise."""
    schedule = schedule_from_spec(hearth.settings.digest_schedule)

    async def action() -> int:
        queued.append(
            await jobs.weekly_digests(hearth.uow_factory, hearth.digests, hearth.clock, schedule)
        )
        return 0

    return action


def digest_hour(hearth: Hearth) -> float:
    """The local hour (with a margin) at which the digest job is run each simulated day."""
    schedule = schedule_from_spec(hearth.settings.digest_schedule)
    at = schedule.at
    return at.hour + at.minute / 60 + 0.1


def save_digest_charts(api: BotApiStandIn, operator_id: int, folder: Path) -> list[Path]:
    """The charts of the last digest the operator received, written as the PNG files Telegram
    was sent (the stand-in keeps uploaded bytes); none if no digest came."""
    photos = [
        call
        for call in api.calls_of("sendPhoto")
        if call.params.get("chat_id") == operator_id and "photo" in call.uploads
    ]
    named = [(str(call.params["photo"].get("filename", "chart.png")), call) for call in photos]
    if not named:
        return []
    # the charts are named digest-<group>-<week>-<locale>-<chart>.png: the last week's
    week = named[-1][0].rsplit("-", 2)[0]
    last = {name: call.uploads["photo"] for name, call in named if name.startswith(week)}
    written: list[Path] = []
    for name, content in last.items():
        path = folder / name
        path.write_bytes(content)
        written.append(path)
    return written


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
        result = await uow.session.execute(
            select(
                col(MembershipStageRow.member_id),
                col(MembershipStageRow.stage),
                col(MembershipStageRow.segment),
                col(MembershipStageRow.high_value),
            ).where(col(MembershipStageRow.community_id) == community.chat_id)
        )
        standings = {int(row[0]): (Stage(row[1]), row[2], bool(row[3])) for row in result}
    habits = {
        member.id: habit_of(member, days, community.was_revived(member.id))
        for member in community.members
    }
    figures = EngagementFigures(
        recomputes,
        by_habit={habit: Counter() for habit in HABITS},
        segments_by_habit={habit: Counter() for habit in HABITS},
        high_value=sum(high for _, _, high in standings.values()),
    )
    for member_id, (stage, segment, _) in standings.items():
        figures.stages[stage] += 1
        if segment is not None:
            figures.segments[Segment(segment)] += 1
        habit = habits.get(member_id)
        if habit is not None:  # (the operator is a member too, with no synthetic habit)
            figures.by_habit[habit][stage] += 1
            if segment is not None:
                figures.segments_by_habit[habit][Segment(segment)] += 1
    return figures
