"""The scheduled jobs. Each is idempotent: running it twice, or late, changes nothing more."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from hearth.domain.events import REMINDER_HOURS
from hearth.domain.lifecycle import LifecycleRules
from hearth.domain.schedules import Schedule
from hearth.scheduler.announcements import AnnouncementTimetable
from hearth.scheduler.quizzes import QuizTimetable
from hearth.services import (
    cars,
    digest,
    draws,
    engagement_recompute,
    events,
    greetings,
    honour,
    nudges,
    points,
    reminders,
    tiers,
)
from hearth.services.ports import (
    Clock,
    DigestPost,
    DrawNotices,
    EventNotices,
    Greeter,
    HonourNotices,
    Notifier,
    NudgeSender,
    ServiceNotices,
    UnitOfWorkFactory,
)

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 600  # a job that could not start on time still runs within this


async def expire_points(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    """Write off every lot past its expiry date, batch by batch."""
    total = 0
    while True:
        async with uow_factory() as uow:
            expired = await points.expire_due(uow, clock.now())
            await uow.commit()
        if not expired:
            break
        total += expired
    if total:
        log.info("expired %d points", total)
    return total


async def checkin_reminders(
    uow_factory: UnitOfWorkFactory, notifier: Notifier, clock: Clock
) -> int:
    return await reminders.send_checkin_reminders(uow_factory, notifier, clock.now())


async def expiry_reminders(uow_factory: UnitOfWorkFactory, notifier: Notifier, clock: Clock) -> int:
    return await reminders.send_expiry_reminders(uow_factory, notifier, clock.now())


async def tier_announcements(
    uow_factory: UnitOfWorkFactory, notifier: Notifier, clock: Clock
) -> int:
    return await tiers.announce_tier_changes(uow_factory, notifier, clock.now())


async def event_reminders(
    uow_factory: UnitOfWorkFactory, notices: EventNotices, clock: Clock, hours: tuple[int, ...]
) -> int:
    return await events.send_reminders(uow_factory, notices, clock.now(), hours)


async def event_feedback(
    uow_factory: UnitOfWorkFactory, notices: EventNotices, clock: Clock
) -> int:
    return await events.request_feedback(uow_factory, notices, clock.now())


async def send_greetings(uow_factory: UnitOfWorkFactory, greeter: Greeter, clock: Clock) -> int:
    return await greetings.send_greetings(uow_factory, greeter, clock.now())


async def recompute_engagement(
    uow_factory: UnitOfWorkFactory, clock: Clock, rules: LifecycleRules | None = None
) -> int:
    """Stages, RFM and tags of each community once a local day, after its 03:00."""
    done = await engagement_recompute.recompute_due(uow_factory, clock.now(), rules)
    for each in done:
        log.info(
            "recomputed community %d for %s: %d members, %d stage changes",
            each.community_id,
            each.day,
            each.members,
            each.changes,
        )
    return len(done)


async def weekly_digests(
    uow_factory: UnitOfWorkFactory, post: DigestPost, clock: Clock, schedule: Schedule
) -> int:
    """Each community's weekly digest to its operators, once a week at its local time."""
    queued = await digest.send_due(uow_factory, post, clock.now(), schedule)
    if queued:
        log.info("queued %d weekly digests", queued)
    return queued


async def plan_nudges(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    """Record who came back after a nudge, then plan each community's nudges once a
    local day (after its 04:00)."""
    now = clock.now()
    returned = await nudges.record_returns(uow_factory, now)
    planned = await nudges.plan_due(uow_factory, now)
    for each in planned:
        log.info(
            "planned nudges of community %d for %s: %d planned, %d held out, %d skipped",
            each.community_id,
            each.day,
            each.planned,
            each.held_out,
            each.skipped,
        )
    if returned:
        log.info("%d nudged or held-out members came back", returned)
    return len(planned)


async def send_nudges(uow_factory: UnitOfWorkFactory, sender: NudgeSender, clock: Clock) -> int:
    """Send the planned nudges whose time has come."""
    queued = await nudges.send_due(uow_factory, sender, clock.now())
    if queued:
        log.info("queued %d nudges", queued)
    return queued


async def honour_boards(
    uow_factory: UnitOfWorkFactory, notices: HonourNotices, clock: Clock
) -> int:
    """The finished month's honour boards in their groups, once each, from 10:00 local on
    the 1st."""
    posted = await honour.post_due_boards(uow_factory, notices, clock.now())
    if posted:
        log.info("queued %d honour boards", posted)
    return posted


async def close_draws(uow_factory: UnitOfWorkFactory, notices: DrawNotices, clock: Clock) -> int:
    """Draw the winners of every draw whose closing time has come, and announce them."""
    closed = await draws.close_due(uow_factory, notices, clock.now())
    if closed:
        log.info("closed %d lucky draws", closed)
    return closed


async def service_reminders(
    uow_factory: UnitOfWorkFactory, notices: ServiceNotices, clock: Clock
) -> int:
    """Maintenance reminders owed, each queued for the member's next local morning."""
    queued = await cars.send_reminders(uow_factory, notices, clock.now())
    if queued:
        log.info("queued %d maintenance reminders", queued)
    return queued


def build_scheduler(
    uow_factory: UnitOfWorkFactory,
    notifier: Notifier,
    clock: Clock,
    *,
    timetable: AnnouncementTimetable | None = None,
    quiz_timetable: QuizTimetable | None = None,
    greeter: Greeter | None = None,
    event_notices: EventNotices | None = None,
    event_reminder_hours: tuple[int, ...] = REMINDER_HOURS,
    digests: DigestPost | None = None,
    digest_schedule: Schedule | None = None,
    lifecycle_rules: LifecycleRules | None = None,
    nudge_sender: NudgeSender | None = None,
    draw_notices: DrawNotices | None = None,
    honour_notices: HonourNotices | None = None,
    service_notices: ServiceNotices | None = None,
) -> AsyncIOScheduler:
    """The scheduler with Hearth's jobs (in memory: the database rows are the source of truth)."""
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )
    with_notifier = (uow_factory, notifier, clock)
    jobs: list[tuple[str, Callable[..., Awaitable[int]], int, tuple[object, ...]]] = [
        ("points.expire", expire_points, 5, (uow_factory, clock)),
        ("checkin.reminders", checkin_reminders, 0, with_notifier),
        ("points.expiry_reminders", expiry_reminders, 30, with_notifier),
        ("points.tiers", tier_announcements, 45, with_notifier),
        # hourly, but each community once a local day (after its 03:00, or on catching up)
        ("engagement.recompute", recompute_engagement, 20, (uow_factory, clock, lifecycle_rules)),
    ]
    for job_id, job, minute, args in jobs:  # hourly, each at its own minute
        scheduler.add_job(
            job, CronTrigger(minute=minute), args=args, id=job_id, replace_existing=True
        )
    if greeter is not None:
        scheduler.add_job(
            send_greetings,
            CronTrigger(minute=10),
            args=(uow_factory, greeter, clock),
            id="greetings",
            replace_existing=True,
        )
    if event_notices is not None:  # every 5 minutes: a reminder is due within minutes
        for job_id, job, args in (
            ("events.reminders", event_reminders, (event_reminder_hours,)),
            ("events.feedback", event_feedback, ()),
        ):
            scheduler.add_job(
                job,
                CronTrigger(minute="*/5"),
                args=(uow_factory, event_notices, clock, *args),
                id=job_id,
                replace_existing=True,
            )
    if digests is not None and digest_schedule is not None:  # due within minutes of its time
        scheduler.add_job(
            weekly_digests,
            CronTrigger(minute="*/15"),
            args=(uow_factory, digests, clock, digest_schedule),
            id="digest.weekly",
            replace_existing=True,
        )
    if nudge_sender is not None:  # planned once a local day; sent within minutes of their time
        scheduler.add_job(
            plan_nudges,
            CronTrigger(minute="*/15"),
            args=(uow_factory, clock),
            id="nudges.plan",
            replace_existing=True,
        )
        scheduler.add_job(
            send_nudges,
            CronTrigger(minute="*/5"),
            args=(uow_factory, nudge_sender, clock),
            id="nudges.send",
            replace_existing=True,
        )
    if honour_notices is not None:  # hourly; each board once, from 10:00 local on the 1st
        scheduler.add_job(
            honour_boards,
            CronTrigger(minute=50),
            args=(uow_factory, honour_notices, clock),
            id="honour.boards",
            replace_existing=True,
        )
    if draw_notices is not None:  # every minute: winners are drawn soon after the closing time
        scheduler.add_job(
            close_draws,
            CronTrigger(minute="*"),
            args=(uow_factory, draw_notices, clock),
            id="draws.close",
            replace_existing=True,
        )
    if service_notices is not None:  # daily; each reminder waits for the member's morning
        scheduler.add_job(
            service_reminders,
            CronTrigger(hour=0, minute=55),
            args=(uow_factory, service_notices, clock),
            id="cars.service_reminders",
            replace_existing=True,
        )
    # One job per announcement and per quiz schedule, rebuilt from the database.
    for each in (timetable, quiz_timetable):
        if each is not None:
            each.attach(scheduler)
    return scheduler
