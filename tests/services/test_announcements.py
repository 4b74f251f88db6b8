"""Announcement runs: once per scheduled instant and chat, across reruns, crashes and restarts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hearth.bot.announcer import OutboxAnnouncer
from hearth.bot.notifier import OutboxWriter
from hearth.domain.announcements import Audience, RunStatus
from hearth.domain.members import ChatRole, Person
from hearth.domain.schedules import parse_schedule
from hearth.i18n import build_i18n
from hearth.scheduler.announcements import AnnouncementTimetable, job_id
from hearth.scheduler.jobs import build_scheduler
from hearth.services import announcements
from hearth.services.announcements import Draft
from hearth.simulate.clock import VirtualClock
from hearth.storage.engine import unit_of_work_factory
from hearth.storage.outbox import OutboxRow
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP = -1001000000001
ALICE, BORIS, CAROL, DAVE, ERIN = 101, 102, 103, 104, 105
# Monday 2 March 2026, 08:00 in Shanghai.
MONDAY_EIGHT = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
MONDAY_NINE = MONDAY_EIGHT + timedelta(hours=1)
HOUR = timedelta(hours=1)
GRACE = HOUR


class NullNotifier:
    """The scheduler's other jobs are not under test here."""

    async def checkin_reminder(self, *args: Any) -> bool:
        return False

    async def expiry_reminder(self, *args: Any) -> bool:
        return False

    async def tier_reached(self, *args: Any) -> bool:
        return False


def announcer(clock: VirtualClock) -> OutboxAnnouncer:
    return OutboxAnnouncer(OutboxWriter(build_i18n("en"), clock))


async def community_with_members(uow_factory: UnitOfWorkFactory) -> None:
    """Alice and Boris started the bot; Carol never did; Dave blocked it; Erin opted out."""
    async with uow_factory() as uow:
        await uow.communities.add(
            GROUP, "Owners", timezone="Asia/Shanghai", locale="en", now=MONDAY_EIGHT
        )
        for member_id in (ALICE, BORIS, CAROL, DAVE, ERIN):
            await uow.members.upsert(Person(member_id, f"M{member_id}"), MONDAY_EIGHT)
            await uow.memberships.add(GROUP, member_id, role=ChatRole.MEMBER, now=MONDAY_EIGHT)
            if member_id != CAROL:
                await uow.members.update(member_id, started_bot=True)
        await uow.members.update(DAVE, reachable=False)
        await uow.announcements.set_private_copies(ERIN, [GROUP], False, MONDAY_EIGHT)
        await uow.commit()


async def schedule_announcement(
    uow_factory: UnitOfWorkFactory,
    clock: VirtualClock,
    when: str,
    audience: Audience = Audience.GROUP_AND_PRIVATE,
) -> int:
    async with uow_factory() as uow:
        community = await uow.communities.get(GROUP)
        assert community is not None
        created = await announcements.create(
            uow,
            announcer(clock),
            Draft(
                GROUP,
                "<b>Car wash</b> on Saturday",
                None,
                parse_schedule(when, today=MONDAY_EIGHT.date()),
                audience,
            ),
            community=community,
            actor_id=7,
            now=clock.now(),
        )
        await uow.commit()
    return created.announcement.id


async def outbox(engine: AsyncEngine) -> list[OutboxRow]:
    async with unit_of_work_factory(engine)() as uow:
        found = list(await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        uow.session.expunge_all()
        return found


async def runs(uow_factory: UnitOfWorkFactory, announcement_id: int) -> list[Any]:
    async with uow_factory() as uow:
        return await uow.announcements.runs(announcement_id)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(MONDAY_EIGHT)


async def test_a_recurring_announcement_goes_to_the_group_and_to_members_who_may_get_it(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine, clock: VirtualClock
) -> None:
    await community_with_members(uow_factory)
    number = await schedule_announcement(uow_factory, clock, "every Monday 09:00")
    clock.set(MONDAY_NINE)

    report = await announcements.run_due(
        uow_factory, announcer(clock), number, now=clock.now(), grace=GRACE
    )

    assert report.sent == MONDAY_NINE
    assert report.next_run == MONDAY_NINE + timedelta(days=7)
    queued = await outbox(engine)
    assert sorted(row.chat_id for row in queued) == [GROUP, ALICE, BORIS]
    assert {json.loads(row.payload)["text"] for row in queued} == {"<b>Car wash</b> on Saturday"}
    assert {row.dedupe_key for row in queued} == {
        f"announcement:{number}:20260302T010000Z:{chat}" for chat in (GROUP, ALICE, BORIS)
    }
    # private copies carry the one-tap opt-out, the group's does not
    group_copy = next(row for row in queued if row.chat_id == GROUP)
    assert "reply_markup" not in json.loads(group_copy.payload)
    alice_copy = next(row for row in queued if row.chat_id == ALICE)
    [[button]] = json.loads(alice_copy.payload)["reply_markup"]["inline_keyboard"]
    assert button["callback_data"] == f"an1o:{GROUP}"


async def test_a_job_that_runs_twice_sends_once(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine, clock: VirtualClock
) -> None:
    await community_with_members(uow_factory)
    number = await schedule_announcement(uow_factory, clock, "every day 09:00")
    clock.set(MONDAY_NINE + timedelta(seconds=3))
    for _ in range(2):
        await announcements.run_due(
            uow_factory, announcer(clock), number, now=clock.now(), grace=GRACE
        )
    assert len(await outbox(engine)) == 3
    assert await runs(uow_factory, number) == [(MONDAY_NINE, RunStatus.SENT)]


async def test_a_crash_in_the_middle_of_deciding_a_run_leaves_it_whole_for_the_next_look(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine, clock: VirtualClock
) -> None:
    await community_with_members(uow_factory)
    number = await schedule_announcement(uow_factory, clock, "every day 09:00")
    clock.set(MONDAY_NINE)

    class CrashingAnnouncer(OutboxAnnouncer):
        async def announce(self, uow: Any, *args: Any) -> int:
            await super().announce(uow, *args)  # everything queued…
            raise RuntimeError("the process died")  # …but never committed

    with pytest.raises(RuntimeError):
        await announcements.run_due(
            uow_factory,
            CrashingAnnouncer(OutboxWriter(build_i18n("en"), clock)),
            number,
            now=clock.now(),
            grace=GRACE,
        )
    assert await outbox(engine) == []
    assert await runs(uow_factory, number) == []

    clock.set(MONDAY_NINE + 10 * timedelta(minutes=1))  # restarted ten minutes later
    await announcements.run_due(uow_factory, announcer(clock), number, now=clock.now())
    assert sorted(row.chat_id for row in await outbox(engine)) == [GROUP, ALICE, BORIS]


@pytest.fixture(autouse=True)
async def stop_schedulers() -> AsyncIterator[None]:
    yield
    for scheduler in STARTED:
        scheduler.shutdown(wait=False)
    STARTED.clear()


STARTED: list[AsyncIOScheduler] = []


def build(uow_factory: UnitOfWorkFactory, clock: VirtualClock) -> AnnouncementTimetable:
    """One process's scheduler with its jobs, started paused: the test fires the jobs."""
    timetable = AnnouncementTimetable(uow_factory, announcer(clock), clock, grace=GRACE)
    scheduler = build_scheduler(uow_factory, NullNotifier(), clock, timetable=timetable)
    scheduler.start(paused=True)
    STARTED.append(scheduler)
    return timetable


def armed_at(timetable: AnnouncementTimetable, announcement_id: int) -> datetime | None:
    assert timetable.scheduler is not None
    job = timetable.scheduler.get_job(job_id(announcement_id))
    if job is None:
        return None
    assert isinstance(job.trigger, DateTrigger)
    run_date: datetime = job.trigger.run_date
    return run_date


async def test_a_scheduled_announcement_survives_a_restart(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine, clock: VirtualClock
) -> None:
    await community_with_members(uow_factory)
    first_process = build(uow_factory, clock)
    number = await schedule_announcement(uow_factory, clock, "every Monday 09:00")
    await first_process.rebuild()
    assert armed_at(first_process, number) == MONDAY_NINE

    # the process stops before nine and another one starts over the same database
    clock.set(MONDAY_EIGHT + timedelta(minutes=30))
    second_process = build(uow_factory, clock)
    assert armed_at(second_process, number) is None  # memory job store: nothing yet…
    await second_process.rebuild()
    assert armed_at(second_process, number) == MONDAY_NINE  # …rebuilt from the rows
    assert await outbox(engine) == []

    clock.set(MONDAY_NINE)
    await second_process.run(number)  # what the job does when it fires
    assert len(await outbox(engine)) == 3
    assert armed_at(second_process, number) == MONDAY_NINE + timedelta(days=7)


async def test_a_run_missed_while_the_bot_was_down_runs_late_within_the_grace_period_once(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine, clock: VirtualClock
) -> None:
    await community_with_members(uow_factory)
    number = await schedule_announcement(uow_factory, clock, "every Monday 09:00")
    # down from 08:00 until 09:40; back up within the hour of grace
    clock.set(MONDAY_NINE + timedelta(minutes=40))
    assert await build(uow_factory, clock).rebuild() == 3
    # and a second restart soon after changes nothing
    clock.set(MONDAY_NINE + timedelta(minutes=45))
    assert await build(uow_factory, clock).rebuild() == 0
    assert len(await outbox(engine)) == 3
    assert await runs(uow_factory, number) == [(MONDAY_NINE, RunStatus.SENT)]


async def test_a_run_missed_for_longer_than_the_grace_period_is_skipped_not_sent(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine, clock: VirtualClock
) -> None:
    await community_with_members(uow_factory)
    number = await schedule_announcement(uow_factory, clock, "every Monday 09:00")
    clock.set(MONDAY_NINE + 3 * HOUR)
    timetable = build(uow_factory, clock)
    assert await timetable.rebuild() == 0
    assert await build(uow_factory, clock).rebuild() == 0
    assert await outbox(engine) == []
    assert await runs(uow_factory, number) == [(MONDAY_NINE, RunStatus.SKIPPED)]
    assert armed_at(timetable, number) == MONDAY_NINE + timedelta(days=7)


async def test_a_one_off_runs_once_and_is_then_finished(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine, clock: VirtualClock
) -> None:
    await community_with_members(uow_factory)
    number = await schedule_announcement(
        uow_factory, clock, "2026-03-02 09:00", audience=Audience.GROUP
    )
    timetable = build(uow_factory, clock)
    clock.set(MONDAY_NINE)
    await timetable.run(number)
    await timetable.rebuild()
    assert [row.chat_id for row in await outbox(engine)] == [GROUP]
    assert armed_at(timetable, number) is None
    async with uow_factory() as uow:
        assert await uow.announcements.scheduled() == []


async def test_a_paused_announcement_does_not_run_and_resuming_does_not_catch_up(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine, clock: VirtualClock
) -> None:
    await community_with_members(uow_factory)
    number = await schedule_announcement(uow_factory, clock, "every day 09:00")
    async with uow_factory() as uow:
        await announcements.set_paused(
            uow, number, paused=True, operated={GROUP}, actor_id=7, now=clock.now()
        )
        await uow.commit()
    clock.set(MONDAY_NINE + timedelta(minutes=5))
    timetable = build(uow_factory, clock)
    await timetable.rebuild()
    assert armed_at(timetable, number) is None
    async with uow_factory() as uow:
        await announcements.set_paused(
            uow, number, paused=False, operated={GROUP}, actor_id=7, now=clock.now()
        )
        await uow.commit()
    await timetable.run(number)
    assert await outbox(engine) == []  # nine o'clock passed while paused
    assert armed_at(timetable, number) == MONDAY_NINE + timedelta(days=1)
