"""Nudge timing through the scheduler's jobs: one member of two communities is one person
to nudge, and a day's plan waits for that day's recompute of the stages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col

from hearth.domain.lifecycle import Stage
from hearth.domain.members import ChatRole
from hearth.domain.nudges import NudgeKind, NudgeStatus
from hearth.scheduler import jobs
from hearth.simulate.clock import VirtualClock
from hearth.storage.engagement import MembershipStageRow
from hearth.storage.unit_of_work import UnitOfWorkFactory
from tests.services.test_nudges import (
    AWAY,
    DAY,
    JOINED,
    NO_HOLDOUT,
    RecordingSender,
    community,
    decisions,
    drifting,
    local,
)

CLUB = -1001000000002  # a second community of member 1, in London (UTC+0 in March)


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


async def stage_in_club(uow_factory: UnitOfWorkFactory, stage: Stage, day: date) -> None:
    """Member 1's stage in the club as the club's recompute of ``day`` found it."""
    async with uow_factory() as uow:
        await uow.session.execute(
            update(MembershipStageRow)
            .where(col(MembershipStageRow.community_id) == CLUB)
            .values(stage=stage.value, computed_on=day)
        )
        await uow.commit()


async def member_of_the_club_too(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.communities.add(CLUB, "Riders", timezone="Europe/London", locale="en", now=JOINED)
        await uow.nudges.save_settings(CLUB, NO_HOLDOUT, JOINED)
        await uow.memberships.add(CLUB, 1, role=ChatRole.MEMBER, now=JOINED)
        uow.session.add(
            MembershipStageRow(
                community_id=CLUB,
                member_id=1,
                stage=Stage.MATURE.value,
                since=AWAY,
                computed_on=DAY,
                value_score=2,
                high_value=False,
            )
        )
        await uow.commit()


async def club_day(uow_factory: UnitOfWorkFactory, sender: RecordingSender, day: date) -> None:
    """The plan and send jobs through a London day, every half hour."""
    for hour in range(24):
        for minute in (5, 35):
            now = london(day, hour, minute)
            sender.now = now
            await jobs.plan_nudges(uow_factory, VirtualClock(now))
            await jobs.send_nudges(uow_factory, sender, VirtualClock(now))


async def test_a_member_nudged_in_one_community_is_not_nudged_in_another_days_later(
    uow_factory: UnitOfWorkFactory,
):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20)  # dormant in the Shanghai group
    await member_of_the_club_too(uow_factory)
    sender = RecordingSender()
    for hour, minute in ((4, 5), (20, 35)):  # nudged in the group on Monday 20:30 (12:30 UTC)
        sender.now = local(DAY, hour, minute)
        await jobs.plan_nudges(uow_factory, VirtualClock(sender.now))
        await jobs.send_nudges(uow_factory, sender, VirtualClock(sender.now))
    assert [each.at for each in sender.to(1)] == [local(DAY, 20, 35)]

    thursday = DAY + timedelta(days=3)  # drifting away from the club as well
    await stage_in_club(uow_factory, Stage.DORMANT, thursday)
    await club_day(uow_factory, sender, thursday)

    assert len(sender.to(1)) == 1
    async with uow_factory() as uow:
        assert await uow.nudges.history(CLUB, 1) == []

    # A week later in calendar days (168 hours not quite over), the club may nudge them.
    monday = DAY + timedelta(days=7)
    await stage_in_club(uow_factory, Stage.DORMANT, monday)
    await club_day(uow_factory, sender, monday)

    assert [each.at for each in sender.to(1)] == [local(DAY, 20, 35), london(monday, 10, 35)]
    async with uow_factory() as uow:
        [record] = await uow.nudges.history(CLUB, 1)
    assert (record.status, record.kind) == (NudgeStatus.SENT, NudgeKind.LIGHT)


async def test_the_days_plan_waits_for_the_days_recompute(uow_factory: UnitOfWorkFactory):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20)
    async with uow_factory() as uow:  # the stages are yesterday's: the bot was down overnight
        await uow.session.execute(
            update(MembershipStageRow).values(computed_on=DAY - timedelta(days=1))
        )
        await uow.commit()

    # Back up at 08:00: the plan job (every 15 minutes) runs before the recompute (at :20).
    assert await jobs.plan_nudges(uow_factory, VirtualClock(local(DAY, 8, 0))) == 0
    assert await decisions(uow_factory, 1) == []

    assert await jobs.recompute_engagement(uow_factory, VirtualClock(local(DAY, 8, 20))) == 1
    assert await jobs.plan_nudges(uow_factory, VirtualClock(local(DAY, 8, 30))) == 1

    [(day, status, step, kind, _)] = await decisions(uow_factory, 1)
    assert (day, status, step, kind) == (DAY, NudgeStatus.PLANNED, 1, NudgeKind.LIGHT)
    assert await jobs.plan_nudges(uow_factory, VirtualClock(local(DAY, 8, 45))) == 0
