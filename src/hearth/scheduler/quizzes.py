"""Scheduled quiz rounds: one job per schedule (``quiz:<id>``), rebuilt from the database.

A round missed while the bot was down starts late within half an hour, or is skipped —
never twice: each scheduled instant can start one round (a unique key on the round).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hearth.scheduler.timetable import Timetable
from hearth.services import quizzes
from hearth.services.ports import Clock, QuizRoundDriver, UnitOfWorkFactory


class QuizTimetable(Timetable):
    """Starts scheduled rounds and hands them to the driver that posts their questions."""

    kind = "quiz"

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        rounds: QuizRoundDriver,
        clock: Clock,
        *,
        grace: timedelta = quizzes.SCHEDULE_GRACE,
    ) -> None:
        super().__init__()
        self.uow_factory = uow_factory
        self.rounds = rounds
        self.clock = clock
        self.grace = grace
        self.rng = random.Random()

    async def schedule_ids(self) -> list[int]:
        return await quizzes.scheduled_ids(self.uow_factory)

    async def run_due(self, schedule_id: int) -> tuple[int, datetime | None]:
        started, upcoming = await quizzes.run_scheduled(
            self.uow_factory, schedule_id, now=self.clock.now(), rng=self.rng, grace=self.grace
        )
        if started is not None:
            await self.rounds.begin(started.id)
        return int(started is not None), upcoming
