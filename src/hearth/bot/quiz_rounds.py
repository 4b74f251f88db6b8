"""Quiz rounds in the group: posting the polls, driving each round on, queuing results.

Each running round has a small task that calls ``services.quizzes.step`` whenever the
current question closes. The round's state lives in the database, so a restart resumes
every running round where it was (``resume``). Polls are posted directly (Telegram must
tell their ids), within the group's share of the send budget; the results go through the
outbox like everything else the bot says on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.types import InputPollOption

from hearth.bot.delivery import SendBudget
from hearth.bot.notifier import OutboxWriter, message
from hearth.domain.delivery import Priority
from hearth.domain.members import CommunityProfile
from hearth.domain.quizzes import EXPLANATION_LIMIT, PostedPoll, Question, RoundResult
from hearth.handlers import quizzes_texts
from hearth.services import quizzes
from hearth.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


class QuizRounds:
    """Posts quiz polls and keeps every running round moving."""

    def __init__(
        self,
        bot: Bot,
        uow_factory: UnitOfWorkFactory,
        outbox: OutboxWriter,
        budget: SendBudget,
        clock: Clock,
    ) -> None:
        self.bot = bot
        self.uow_factory = uow_factory
        self.outbox = outbox
        self.budget = budget
        self.clock = clock
        self._drivers: dict[int, asyncio.Task[None]] = {}

    # -- QuizPoster

    async def post_question(
        self,
        community: CommunityProfile,
        question: Question,
        *,
        position: int,
        total: int,
        open_seconds: int,
    ) -> PostedPoll | None:
        for attempt in range(2):
            async with self.budget.slot(community.id, Priority.BROADCAST):
                try:
                    sent = await self.bot.send_poll(
                        community.id,
                        question=quizzes_texts.question_heading(position, total, question),
                        options=[InputPollOption(text=option) for option in question.options],
                        type="quiz",
                        is_anonymous=False,
                        correct_option_ids=[question.correct],
                        explanation=question.explanation[:EXPLANATION_LIMIT] or None,
                        open_period=open_seconds,
                    )
                except TelegramRetryAfter as pause:
                    self.budget.pause(pause.retry_after)
                    if attempt:
                        return None
                    continue
                except TelegramAPIError as error:
                    log.warning("quiz poll in %s refused: %s", community.id, error)
                    return None
            if sent.poll is None:
                return None
            return PostedPoll(sent.poll.id, sent.message_id)
        return None

    async def results(
        self,
        uow: UnitOfWork,
        key: str,
        community: CommunityProfile,
        result: RoundResult,
        *,
        hardest: Question | None,
        names: Mapping[int, str],
    ) -> bool:
        with self.outbox.speaking_to(None, community):
            text = quizzes_texts.results(result, hardest, names)
        return await self.outbox.queue(
            uow,
            message(key, community.id, text, kind="quiz_results", community_id=community.id),
        )

    # -- driving rounds

    async def begin(self, round_id: int) -> None:
        """Post a new round's first question now, then keep the round moving."""
        if await quizzes.step(self.uow_factory, self, self.clock, round_id) is not None:
            self.drive(round_id)

    def drive(self, round_id: int) -> None:
        """Keep a round moving until it is over (once per round, however often called)."""
        if round_id in self._drivers and not self._drivers[round_id].done():
            return
        task = asyncio.create_task(self._drive(round_id), name=f"hearth-quiz-{round_id}")
        self._drivers[round_id] = task
        task.add_done_callback(lambda _: self._drivers.pop(round_id, None))

    async def stop_round(self, community: CommunityProfile) -> bool:
        """End the community's running round now (its results are posted)."""
        return await quizzes.stop_round(self.uow_factory, self, self.clock, community)

    async def step(self, round_id: int) -> bool:
        """Move one round on as far as the clock allows; False once it is over."""
        return await quizzes.step(self.uow_factory, self, self.clock, round_id) is not None

    async def resume(self) -> int:
        """Pick up the rounds that were running when the process stopped."""
        async with self.uow_factory() as uow:
            running = await uow.quizzes.running_rounds()
        for quiz in running:
            self.drive(quiz.id)
        return len(running)

    async def stop(self) -> None:
        for task in list(self._drivers.values()):
            task.cancel()
        for task in list(self._drivers.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._drivers.clear()

    async def _drive(self, round_id: int) -> None:
        async with self.uow_factory() as uow:
            polls = await uow.quizzes.polls_of(round_id)
        if polls:  # a round that was begun (or resumed) waits for its open question
            await self._sleep_until(polls[-1].closes_at + quizzes.LATE_GRACE)
        while True:
            try:
                wake_at = await quizzes.step(self.uow_factory, self, self.clock, round_id)
            except Exception:  # the database may be briefly away: try again shortly
                log.exception("quiz round %d could not move on", round_id)
                await asyncio.sleep(5)
                continue
            if wake_at is None:
                return
            await self._sleep_until(wake_at)

    async def _sleep_until(self, moment: datetime) -> None:
        await asyncio.sleep(max((moment - self.clock.now()).total_seconds(), 0.05))
