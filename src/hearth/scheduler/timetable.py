"""Timetables: one APScheduler job per stored schedule, rebuilt from the database.

The job store is in memory; the rows (announcements, quiz schedules) are the source of
truth. At start-up, every few minutes as a safety net, and whenever a row changes, each
schedule is looked at: what came due while nobody looked runs late within the grace period
or is skipped, and its job ``<kind>:<id>`` is (re)armed for the next instant with
``replace_existing``. Each run is claimed by a unique record before anything happens, so
neither a restart nor a job that fires twice repeats it.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from datetime import datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

REBUILD_EVERY = timedelta(minutes=5)


class Timetable(ABC):
    """Keeps one scheduler job per stored schedule in step with the database."""

    kind: str  # "announcement", "quiz": job ids are "<kind>:<id>"

    def __init__(self) -> None:
        self.scheduler: AsyncIOScheduler | None = None

    @abstractmethod
    async def schedule_ids(self) -> list[int]:
        """Every stored schedule that may still run."""

    @abstractmethod
    async def run_due(self, schedule_id: int) -> tuple[int, datetime | None]:
        """Run what is due of one schedule: (what it did, e.g. messages queued; next run)."""

    def job_id(self, schedule_id: int) -> str:
        return f"{self.kind}:{schedule_id}"

    def attach(self, scheduler: AsyncIOScheduler) -> None:
        """Rebuild the jobs as soon as the scheduler starts, then every few minutes."""
        self.scheduler = scheduler
        scheduler.add_job(
            self.rebuild,
            DateTrigger(),  # at once: as soon as the scheduler runs
            id=f"{self.kind}s.rebuild",
            replace_existing=True,
            misfire_grace_time=None,
        )
        scheduler.add_job(
            self.rebuild,
            IntervalTrigger(seconds=REBUILD_EVERY.total_seconds()),
            id=f"{self.kind}s.sweep",
            replace_existing=True,
        )

    async def rebuild(self) -> int:
        """Catch up and arm every schedule that may still run; the sum of what they did."""
        done = 0
        for schedule_id in await self.schedule_ids():
            did, upcoming = await self.run_due(schedule_id)
            self._arm(schedule_id, upcoming)
            done += did
        return done

    async def run_one(self, schedule_id: int) -> None:
        """What a schedule's job does when it fires."""
        _, upcoming = await self.run_due(schedule_id)
        self._arm(schedule_id, upcoming)

    def changed(self, schedule_id: int) -> None:
        """Look at a schedule at once (it was created, paused, resumed or deleted)."""
        scheduler = self._live()
        if scheduler is None:
            return
        scheduler.add_job(
            self.run_one,
            DateTrigger(),
            args=[schedule_id],
            id=self.job_id(schedule_id),
            replace_existing=True,
            misfire_grace_time=None,
        )

    def _live(self) -> AsyncIOScheduler | None:
        """The scheduler, if this process runs one (jobs of a stopped one would pile up)."""
        return self.scheduler if self.scheduler is not None and self.scheduler.running else None

    def _arm(self, schedule_id: int, upcoming: datetime | None) -> None:
        scheduler = self._live()
        if scheduler is None:
            return
        if upcoming is None:  # paused, deleted or finished
            with contextlib.suppress(JobLookupError):
                scheduler.remove_job(self.job_id(schedule_id))
            return
        scheduler.add_job(
            self.run_one,
            DateTrigger(run_date=upcoming),
            args=[schedule_id],
            id=self.job_id(schedule_id),
            replace_existing=True,
            # The run itself decides about lateness (grace period, skipped runs).
            misfire_grace_time=None,
        )
