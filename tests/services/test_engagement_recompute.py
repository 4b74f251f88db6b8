"""The daily recompute on the real database: stages settle with hysteresis, day by day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import col, select

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.events import EventDraft
from hearth.domain.lifecycle import LifecycleRules, Stage, StageChange
from hearth.domain.members import ChatRole, CommunityProfile, Person
from hearth.scheduler import jobs
from hearth.services.engagement_recompute import Recomputed, recompute
from hearth.simulate.clock import VirtualClock
from hearth.storage.engagement import MembershipStageRow
from hearth.storage.quizzes import QuizAnswerRow
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP = -1001000000001
DAY0 = date(2025, 11, 1)  # everyone joined
FADES_AFTER = DAY0 + timedelta(days=80)  # the fader's last active day
LEAVES_ON = DAY0 + timedelta(days=90)
STEADY, FADER, LEAVER = 1, 2, 3
RULES = LifecycleRules()
CLUB = CommunityProfile(
    id=GROUP,
    title="Owners",
    timezone="UTC",
    locale="en",
    active=True,
    bot_is_admin=True,
    welcome_enabled=True,
)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def day(offset: int) -> date:
    return DAY0 + timedelta(days=offset)


async def club(uow_factory: UnitOfWorkFactory) -> None:
    """Three members active every day from DAY0: one stays, one fades out, one leaves."""
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="UTC", locale="en", now=noon(DAY0))
        for member_id in (STEADY, FADER, LEAVER):
            await uow.members.upsert(Person(member_id, f"M{member_id}"), noon(DAY0))
            await uow.memberships.add(GROUP, member_id, role=ChatRole.MEMBER, now=noon(DAY0))
        records = [
            ActivityRecord(GROUP, member_id, ActivityKind.MESSAGE, noon(day(offset)), day(offset))
            for offset in range(121)
            for member_id, last in ((STEADY, 120), (FADER, 80), (LEAVER, 90))
            if offset <= last
        ]
        await uow.activity.add_many(records)
        await uow.memberships.leave(GROUP, LEAVER, noon(LEAVES_ON))
        await uow.commit()


async def run(uow_factory: UnitOfWorkFactory, today: date) -> Recomputed:
    async with uow_factory() as uow:
        result = await recompute(uow, CLUB, today, RULES)
        await uow.commit()
    return result


async def changes_of(uow_factory: UnitOfWorkFactory, member_id: int) -> list[StageChange]:
    async with uow_factory() as uow:
        return await uow.engagement.changes(GROUP, member_id)


async def test_a_fading_member_declines_after_the_hysteresis_week_then_goes_dormant(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    for offset in range(70, 121):
        await run(uow_factory, day(offset))
    # Day 88 is the first whose last 14 days hold fewer than 7 active days (80-75+1 = 6):
    # pending from then, demoted a week later; 30 idle days after day 80 mean dormant.
    assert await changes_of(uow_factory, FADER) == [
        StageChange(None, Stage.MATURE, day(70)),
        StageChange(Stage.MATURE, Stage.DECLINING, day(95)),
        StageChange(Stage.DECLINING, Stage.DORMANT, day(110)),
    ]


async def test_a_steady_member_stays_mature_and_a_leaver_is_churned_on_the_day(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    for offset in range(70, 95):
        result = await run(uow_factory, day(offset))
    assert await changes_of(uow_factory, STEADY) == [StageChange(None, Stage.MATURE, day(70))]
    assert await changes_of(uow_factory, LEAVER) == [
        StageChange(None, Stage.MATURE, day(70)),
        StageChange(Stage.MATURE, Stage.CHURNED, LEAVES_ON),
    ]
    # on day 94 the fader's demotion is pending: still counted as mature
    assert result.stages == {Stage.MATURE: 2, Stage.CHURNED: 1}
    assert sum(result.segments.values()) == 2  # the leaver has no RFM segment


async def test_recomputing_twice_on_a_day_changes_nothing(uow_factory: UnitOfWorkFactory):
    await club(uow_factory)
    first = await run(uow_factory, day(90))
    async with uow_factory() as uow:
        stored = await uow.engagement.stage_states(GROUP)
    again = await run(uow_factory, day(90))
    async with uow_factory() as uow:
        assert await uow.engagement.stage_states(GROUP) == stored
    assert (first.changes, again.changes) == (3, 0)
    assert (again.stages, again.segments) == (first.stages, first.segments)


async def test_the_job_recomputes_each_community_once_a_local_day_after_three(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    night = datetime(2026, 2, 28, 2, 59, tzinfo=UTC)
    assert await jobs.recompute_engagement(uow_factory, VirtualClock(night)) == 0
    assert await jobs.recompute_engagement(uow_factory, VirtualClock(night.replace(hour=3))) == 1
    assert await jobs.recompute_engagement(uow_factory, VirtualClock(night.replace(hour=9))) == 0
    async with uow_factory() as uow:
        assert await uow.engagement.last_computed_on(GROUP) == date(2026, 2, 28)


async def standings(uow_factory: UnitOfWorkFactory) -> dict[int, Any]:
    """The stored standings by member: rows with stage, segment, segment_since and tags."""
    stored = MembershipStageRow
    async with uow_factory() as uow:
        found = await uow.session.execute(
            select(
                col(stored.member_id),
                col(stored.stage),
                col(stored.segment),
                col(stored.segment_since),
                col(stored.tags),
            ).where(col(stored.community_id) == GROUP)
        )
        return {row.member_id: row for row in found}


async def test_a_member_keeps_the_day_they_entered_their_segment_until_it_changes(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    await run(uow_factory, day(79))
    await run(uow_factory, day(80))
    kept = await standings(uow_factory)
    await run(uow_factory, day(81))  # the fader's first day without activity
    changed = await standings(uow_factory)
    await run(uow_factory, day(85))
    later = await standings(uow_factory)
    assert [(kept[m].segment, kept[m].segment_since) for m in (STEADY, FADER)] == [
        ("needs_attention", day(79)),
        ("needs_attention", day(79)),
    ]
    assert [(changed[m].segment, changed[m].segment_since) for m in (STEADY, FADER)] == [
        ("promising", day(81)),
        ("hibernating", day(81)),
    ]
    assert [later[m].segment_since for m in (STEADY, FADER)] == [day(81), day(81)]
    assert (later[LEAVER].segment, later[LEAVER].segment_since) == (None, None)


EVENINGS, MORNINGS, FEW = 4, 5, 6
SATURDAYS = [date(2026, 2, 7) + timedelta(weeks=week) for week in range(6)]


async def tagged_club(uow_factory: UnitOfWorkFactory) -> None:
    """A weekend-evening regular with a tier and interests, a weekday-morning one, a member
    who did too little to show habits, and a member who left."""
    joined = noon(date(2025, 6, 1))
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="UTC", locale="en", now=joined)
        for member_id in (EVENINGS, MORNINGS, FEW, LEAVER):
            await uow.members.upsert(Person(member_id, f"M{member_id}"), joined)
            await uow.memberships.add(GROUP, member_id, role=ChatRole.MEMBER, now=joined)
        await uow.memberships.set_tier(GROUP, EVENINGS, "silver")
        await uow.memberships.leave(GROUP, LEAVER, noon(date(2026, 3, 1)))
        weekend = [
            datetime.combine(saturday + timedelta(days=extra), time(19, 30), UTC)
            for saturday in SATURDAYS
            for extra in (0, 1)
        ]
        weekday_mornings = [
            datetime.combine(saturday + timedelta(days=extra), time(8), UTC)
            for saturday in SATURDAYS
            for extra in (2, 4)  # Mondays and Wednesdays
        ]
        records = [
            *(activity(EVENINGS, at) for at in weekend),
            *(activity(MORNINGS, at) for at in weekday_mornings),
            *(activity(FEW, at) for at in weekend[:3]),
            *(activity(LEAVER, at) for at in weekend),
        ]
        await uow.activity.add_many(records)
        for number in range(5):  # answers on maintenance, all right: answered well
            uow.session.add(
                QuizAnswerRow(
                    poll_id=f"p{number}",
                    community_id=GROUP,
                    member_id=EVENINGS,
                    question_id=number,
                    topic="Maintenance",
                    option=1,
                    correct=True,
                    answered_at=weekend[number],
                )
            )
        starts = weekend[0]
        event = await uow.events.add(
            GROUP,
            EventDraft(
                "Ring day", "", "Ring", starts, starts + timedelta(hours=3), None, starts, 0
            ),
            code="RING01",
            actor_id=None,
            now=starts,
        )
        assert event is not None
        await uow.events.change(event.id, starts, tag="track-day")
        await uow.events.attend(event.id, EVENINGS, starts)
        await uow.commit()


def activity(member_id: int, at: datetime) -> ActivityRecord:
    return ActivityRecord(GROUP, member_id, ActivityKind.MESSAGE, at, at.date())


async def test_members_are_tagged_with_tier_interests_and_the_parts_of_day_and_week_they_favour(
    uow_factory: UnitOfWorkFactory,
):
    await tagged_club(uow_factory)
    await run(uow_factory, date(2026, 3, 20))
    tags = {member_id: row.tags for member_id, row in (await standings(uow_factory)).items()}
    assert tags == {
        EVENINGS: ["silver", "maintenance", "track-day", "evening", "weekend"],
        MORNINGS: ["morning", "weekday"],  # the first tier, everyone's, is no tag
        FEW: [],  # three evenings say nothing yet
        LEAVER: [],  # left: no longer classed
    }


async def test_the_job_applies_the_configured_lifecycle_rules(uow_factory: UnitOfWorkFactory):
    await club(uow_factory)
    night = datetime.combine(day(90), time(3), UTC)
    generous = LifecycleRules(new_days=400)  # everyone who stayed is still new
    assert await jobs.recompute_engagement(uow_factory, VirtualClock(night), generous) == 1
    stages = {member_id: row.stage for member_id, row in (await standings(uow_factory)).items()}
    assert stages == {STEADY: "new", FADER: "new", LEAVER: "churned"}
