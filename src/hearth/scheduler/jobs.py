"""The scheduled jobs. Each is idempotent: running it twice, or late, changes nothing more."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from hearth.services import points, reminders, tiers
from hearth.services.ports import Clock, Notifier, UnitOfWorkFactory

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


def build_scheduler(
    uow_factory: UnitOfWorkFactory, notifier: Notifier, clock: Clock
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
    scheduler.add_job(
        expire_points,
        CronTrigger(minute=5),
        args=(uow_factory, clock),
        id="points.expire",
        replace_existing=True,
    )
    scheduler.add_job(
        checkin_reminders,
        CronTrigger(minute=0),
        args=(uow_factory, notifier, clock),
        id="checkin.reminders",
        replace_existing=True,
    )
    scheduler.add_job(
        expiry_reminders,
        CronTrigger(minute=30),
        args=(uow_factory, notifier, clock),
        id="points.expiry_reminders",
        replace_existing=True,
    )
    scheduler.add_job(
        tier_announcements,
        CronTrigger(minute=45),
        args=(uow_factory, notifier, clock),
        id="points.tiers",
        replace_existing=True,
    )
    return scheduler
