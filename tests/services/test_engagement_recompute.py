"""The daily recompute on the real database: stages settle with hysteresis, day by day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.lifecycle import LifecycleRules, Stage, StageChange
from hearth.domain.members import ChatRole, CommunityProfile, Person
from hearth.scheduler import jobs
from hearth.services.engagement_recompute import Recomputed, recompute
from hearth.simulate.clock import VirtualClock
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
