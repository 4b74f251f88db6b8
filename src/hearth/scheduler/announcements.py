"""Announcement jobs: one APScheduler job per announcement, rebuilt from the database.

The job store is in memory; the ``announcement`` rows are the source of truth. At start-up
(and every few minutes, as a safety net) each announcement that may still run is looked
at: what came due while nobody looked runs late within the grace period or is recorded as
skipped, and its job ``announcement:<id>`` is (re)armed for the next instant with
``replace_existing``. A run is claimed by a unique record before anything is queued, so
neither a restart nor a job that fires twice repeats it.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hearth.services import announcements
from hearth.services.announcements import RunReport
from hearth.services.ports import Announcer, Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

REBUILD_EVERY = timedelta(minutes=5)


def job_id(announcement_id: int) -> str:
    return f"announcement:{announcement_id}"


class AnnouncementTimetable:
    """Keeps one scheduler job per announcement in step with the stored announcements."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        announcer: Announcer,
        clock: Clock,
        *,
        grace: timedelta = announcements.DEFAULT_GRACE,
    ) -> None:
        self.uow_factory = uow_factory
        self.announcer = announcer
        self.clock = clock
        self.grace = grace
        self.scheduler: AsyncIOScheduler | None = None

    def attach(self, scheduler: AsyncIOScheduler) -> None:
        """Rebuild the jobs as soon as the scheduler starts, then every few minutes."""
        self.scheduler = scheduler
        scheduler.add_job(
            self.rebuild,
            DateTrigger(),  # at once: as soon as the scheduler runs
            id="announcements.rebuild",
            replace_existing=True,
            misfire_grace_time=None,
        )
        scheduler.add_job(
            self.rebuild,
            IntervalTrigger(seconds=REBUILD_EVERY.total_seconds()),
            id="announcements.sweep",
            replace_existing=True,
        )

    async def rebuild(self) -> int:
        """Catch up and arm every announcement that may still run; how many messages queued."""
        queued = 0
        for announcement_id in await announcements.scheduled_ids(self.uow_factory):
            queued += (await self.run(announcement_id)).queued
        return queued

    async def run(self, announcement_id: int) -> RunReport:
        """Run what is due of one announcement, then arm its job for the next instant."""
        report = await announcements.run_due(
            self.uow_factory,
            self.announcer,
            announcement_id,
            now=self.clock.now(),
            grace=self.grace,
        )
        self._arm(announcement_id, report)
        return report

    def _live(self) -> AsyncIOScheduler | None:
        """The scheduler, if this process runs one (jobs of a stopped one would pile up)."""
        return self.scheduler if self.scheduler is not None and self.scheduler.running else None

    def changed(self, announcement_id: int) -> None:
        """Look at an announcement at once (it was created, paused, resumed or deleted)."""
        scheduler = self._live()
        if scheduler is None:
            return
        scheduler.add_job(
            self.run,
            DateTrigger(),
            args=[announcement_id],
            id=job_id(announcement_id),
            replace_existing=True,
            misfire_grace_time=None,
        )

    def _arm(self, announcement_id: int, report: RunReport) -> None:
        scheduler = self._live()
        if scheduler is None:
            return
        if report.next_run is None:  # paused, deleted or finished
            with contextlib.suppress(JobLookupError):
                scheduler.remove_job(job_id(announcement_id))
            return
        scheduler.add_job(
            self.run,
            DateTrigger(run_date=report.next_run),
            args=[announcement_id],
            id=job_id(announcement_id),
            replace_existing=True,
            # The run itself decides about lateness (grace period, skipped runs).
            misfire_grace_time=None,
        )
