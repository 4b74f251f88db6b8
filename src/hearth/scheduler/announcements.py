"""Announcement jobs: one APScheduler job per announcement, rebuilt from the database.

The job store is in memory; the ``announcement`` rows are the source of truth. At start-up
(and every few minutes, as a safety net) each announcement that may still run is looked
at: what came due while nobody looked runs late within the grace period or is recorded as
skipped, and its job ``announcement:<id>`` is (re)armed for the next instant with
``replace_existing``. A run is claimed by a unique record before anything is queued, so
neither a restart nor a job that fires twice repeats it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from hearth.scheduler.timetable import Timetable
from hearth.services import announcements
from hearth.services.announcements import RunReport
from hearth.services.ports import Announcer, Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)


def job_id(announcement_id: int) -> str:
    return f"announcement:{announcement_id}"


class AnnouncementTimetable(Timetable):
    """One job per announcement: ``announcement:<id>``."""

    kind = "announcement"

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        announcer: Announcer,
        clock: Clock,
        *,
        grace: timedelta = announcements.DEFAULT_GRACE,
    ) -> None:
        super().__init__()
        self.uow_factory = uow_factory
        self.announcer = announcer
        self.clock = clock
        self.grace = grace

    async def schedule_ids(self) -> list[int]:
        return await announcements.scheduled_ids(self.uow_factory)

    async def run_due(self, schedule_id: int) -> tuple[int, datetime | None]:
        report = await self.report(schedule_id)
        return report.queued, report.next_run

    async def run(self, announcement_id: int) -> RunReport:
        """Run what is due of one announcement, then arm its job for the next instant."""
        report = await self.report(announcement_id)
        self._arm(announcement_id, report.next_run)
        return report

    async def report(self, announcement_id: int) -> RunReport:
        return await announcements.run_due(
            self.uow_factory,
            self.announcer,
            announcement_id,
            now=self.clock.now(),
            grace=self.grace,
        )
