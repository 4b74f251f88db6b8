"""A quiz round as a state machine: posting, answers (late, retracted, replayed), results."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from hearth.domain.members import ChatRole, CommunityProfile, Person
from hearth.domain.quizzes import PostedPoll, Question, RoundResult
from hearth.domain.schedules import InvalidSchedule
from hearth.scheduler.quizzes import QuizTimetable
from hearth.services import quizzes
from hearth.services.ports import UnitOfWork
from hearth.services.quizzes import AnswerOutcome
from hearth.simulate.clock import VirtualClock
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP = -1001000000001
ALICE, BORIS, CAROL = 101, 102, 103
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
BANK = [
    {"text": f"Question {n}?", "options": ["right", "wrong"], "correct": 1, "topic": topic}
    for n, topic in enumerate(["maintenance", "maintenance", "history"])
]


@dataclass
class FakePoster:
    """Stands in for Telegram: every poll gets the id ``poll-<n>``; results are recorded."""

    posted: list[tuple[str, Question]] = field(default_factory=list)
    results_told: list[tuple[str, RoundResult, Question | None, dict[int, str]]] = field(
        default_factory=list
    )

    async def post_question(
        self,
        community: CommunityProfile,
        question: Question,
        *,
        position: int,
        total: int,
        open_seconds: int,
    ) -> PostedPoll | None:
        poll_id = f"poll-{len(self.posted)}"
        self.posted.append((poll_id, question))
        return PostedPoll(poll_id, 500 + len(self.posted))

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
        self.results_told.append((key, result, hardest, dict(names)))
        return True


@pytest.fixture
async def community(uow_factory: UnitOfWorkFactory) -> CommunityProfile:
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="UTC", locale="en", now=START)
        for member, name in ((ALICE, "Alice"), (BORIS, "Boris"), (CAROL, "Carol")):
            await uow.members.upsert(Person(member, name), START)
            await uow.memberships.add(GROUP, member, role=ChatRole.MEMBER, now=START)
        report = await quizzes.import_questions(uow, GROUP, BANK, now=START, actor=None)
        assert report.added == 3
        await uow.commit()
        found = await uow.communities.get(GROUP)
    assert found is not None
    return found


async def answer(
    uow_factory: UnitOfWorkFactory, poll_id: str, member: int, options: list[int], at: datetime
) -> AnswerOutcome:
    async with uow_factory() as uow:
        outcome = await quizzes.record_answer(
            uow, poll_id=poll_id, member_id=member, option_ids=options, now=at
        )
        await uow.commit()
    return outcome


async def balance(uow_factory: UnitOfWorkFactory, member: int) -> int:
    async with uow_factory() as uow:
        return await uow.points.balance(GROUP, member)


async def test_a_whole_round_posts_each_question_after_the_last_closed_and_credits_once(
    uow_factory: UnitOfWorkFactory, community: CommunityProfile
) -> None:
    clock = VirtualClock(START)
    poster = FakePoster()
    async with uow_factory() as uow:
        started = await quizzes.start_round(
            uow, community, topic=None, count=2, now=START, actor=7, rng=random.Random(1)
        )
        await uow.commit()
    assert started is not None

    wake = await quizzes.step(uow_factory, poster, clock, started.id)
    assert len(poster.posted) == 1
    assert wake == START + timedelta(seconds=32)  # 30 s open + 2 s grace
    assert await quizzes.step(uow_factory, poster, clock, started.id) == wake  # still open
    assert len(poster.posted) == 1

    first, _ = poster.posted[0]
    assert await answer(uow_factory, first, ALICE, [0], START) is AnswerOutcome.RECORDED
    assert await answer(uow_factory, first, ALICE, [0], START) is AnswerOutcome.REPEATED
    assert await answer(uow_factory, first, BORIS, [1], START + timedelta(seconds=5)) is (
        AnswerOutcome.RECORDED
    )
    # Carol votes, takes it back, votes again later: only the last vote stands.
    await answer(uow_factory, first, CAROL, [1], START + timedelta(seconds=1))
    assert await answer(uow_factory, first, CAROL, [], START + timedelta(seconds=2)) is (
        AnswerOutcome.RETRACTED
    )
    await answer(uow_factory, first, CAROL, [0], START + timedelta(seconds=15))
    assert await answer(uow_factory, "someone-elses-poll", ALICE, [0], START) is (
        AnswerOutcome.NOT_OURS
    )

    clock.set(START + timedelta(seconds=40))
    await quizzes.step(uow_factory, poster, clock, started.id)
    second, _ = poster.posted[1]
    assert await answer(uow_factory, first, BORIS, [0], clock.now()) is AnswerOutcome.LATE
    await answer(uow_factory, second, ALICE, [0], clock.now() + timedelta(seconds=30))

    clock.set(START + timedelta(seconds=80))
    assert await quizzes.step(uow_factory, poster, clock, started.id) is None  # over
    assert await quizzes.step(uow_factory, poster, clock, started.id) is None  # and stays so

    (key, result, hardest, names) = poster.results_told[0]
    assert len(poster.results_told) == 1
    assert key == f"quiz-results:{started.id}"
    assert result.players == 3
    assert [(s.member_id, s.points) for s in result.top] == [(ALICE, 25), (CAROL, 13), (BORIS, 0)]
    assert names[ALICE] == "Alice"
    assert hardest == poster.posted[0][1]  # 2 of 3 right, against 1 of 1
    assert await balance(uow_factory, ALICE) == 25  # 15 for the instant answer, 10 at the bell
    assert await balance(uow_factory, CAROL) == 13  # the vote at 15 s, not the retracted one
    assert await balance(uow_factory, BORIS) == 0
    async with uow_factory() as uow:
        season = await quizzes.season_leaderboard(uow, community, clock.now())
    assert [(line.name, line.points, line.correct) for line in season] == [
        ("Alice", 25, 2),
        ("Carol", 13, 1),
        ("Boris", 0, 0),
    ]


async def test_one_round_at_a_time_and_an_unknown_topic_is_refused(
    uow_factory: UnitOfWorkFactory, community: CommunityProfile
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(quizzes.NoQuestions):
            await quizzes.start_round(
                uow, community, topic="cooking", count=3, now=START, actor=7, rng=random.Random()
            )
        await quizzes.start_round(
            uow, community, topic="history", count=3, now=START, actor=7, rng=random.Random()
        )
        with pytest.raises(quizzes.RoundAlreadyRunning):
            await quizzes.start_round(
                uow, community, topic=None, count=3, now=START, actor=7, rng=random.Random()
            )


async def test_a_scheduled_run_starts_once_however_often_it_is_triggered(
    uow_factory: UnitOfWorkFactory, community: CommunityProfile
) -> None:
    async with uow_factory() as uow:
        first = await quizzes.start_round(
            uow,
            community,
            topic=None,
            count=1,
            now=START,
            actor=None,
            rng=random.Random(),
            schedule_key="quiz:1:2026-03-02T20:00",
        )
        assert first is not None
        await uow.quizzes.finish_round(first.id, START)
        again = await quizzes.start_round(
            uow,
            community,
            topic=None,
            count=1,
            now=START,
            actor=None,
            rng=random.Random(),
            schedule_key="quiz:1:2026-03-02T20:00",
        )
        assert again is None


async def test_practice_picks_topics_not_mastered_and_pays_a_little_a_few_times_a_day(
    uow_factory: UnitOfWorkFactory, community: CommunityProfile
) -> None:
    async with uow_factory() as uow:
        for index in range(6):  # Alice has mastered maintenance in earlier practice
            poll_id = f"old-{index}"
            await uow.quizzes.add_poll(
                poll_id,
                round_id=None,
                community_id=GROUP,
                question_id=1,
                position=0,
                chat_id=ALICE,
                message_id=index,
                posted_at=START,
                closes_at=START + timedelta(days=1),
            )
            await uow.commit()
            outcome = await quizzes.record_answer(
                uow, poll_id=poll_id, member_id=ALICE, option_ids=[0], now=START
            )
            assert outcome is AnswerOutcome.RECORDED
        await uow.commit()
        assert await quizzes.interests(uow, GROUP, ALICE) == {"maintenance"}
        picked = await quizzes.practice_question(uow, community, ALICE, random.Random(3))
    assert picked is not None
    assert picked[1].topic == "history"
    # Practice pays 2 points for each of the first answers of the day, then nothing.
    assert await balance(uow_factory, ALICE) == 2 * (quizzes.PRACTICE_CREDITED_PER_DAY)


@dataclass
class RecordingDriver:
    """Stands in for the round driver: records which rounds it was asked to begin."""

    begun: list[int] = field(default_factory=list)

    async def begin(self, round_id: int) -> None:
        self.begun.append(round_id)

    async def stop_round(self, community: CommunityProfile) -> bool:
        return False


FRIDAY_EIGHT_PM = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # the community runs on UTC


def timetable(uow_factory: UnitOfWorkFactory, clock: VirtualClock) -> QuizTimetable:
    """One process's quiz timetable on a scheduler that is started but paused."""
    made = QuizTimetable(uow_factory, RecordingDriver(), clock)
    scheduler = AsyncIOScheduler(timezone="UTC")
    made.attach(scheduler)
    scheduler.start(paused=True)
    return made


def armed_at(made: QuizTimetable, schedule_id: int) -> datetime | None:
    assert made.scheduler is not None
    job = made.scheduler.get_job(made.job_id(schedule_id))
    return None if job is None else job.trigger.run_date  # type: ignore[no-any-return]


async def rounds(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        return len(await uow.quizzes.rounds_since(GROUP, START - timedelta(days=1)))


async def test_a_scheduled_quiz_survives_a_restart_and_starts_once_at_its_time(
    uow_factory: UnitOfWorkFactory, community: CommunityProfile
) -> None:
    clock = VirtualClock(START)
    async with uow_factory() as uow:
        planned = await quizzes.add_schedule(
            uow, community, "every Friday 20:00", topic=None, count=2, now=START, actor=7
        )
        await uow.commit()
    number = planned.schedule.id
    assert planned.next_run == FRIDAY_EIGHT_PM

    first = timetable(uow_factory, clock)
    await first.rebuild()
    assert armed_at(first, number) == FRIDAY_EIGHT_PM

    # A restart before Friday: the new process arms the same job from the row.
    clock.set(FRIDAY_EIGHT_PM - timedelta(hours=1))
    second = timetable(uow_factory, clock)
    assert armed_at(second, number) is None
    await second.rebuild()
    assert armed_at(second, number) == FRIDAY_EIGHT_PM

    clock.set(FRIDAY_EIGHT_PM)
    await second.run_one(number)  # the job fires
    await second.run_one(number)  # … and, say, fires again
    assert await rounds(uow_factory) == 1
    assert second.rounds.begun == [1]  # type: ignore[attr-defined]
    assert armed_at(second, number) == FRIDAY_EIGHT_PM + timedelta(days=7)


async def test_a_quiz_missed_while_down_starts_late_within_half_an_hour_or_is_skipped(
    uow_factory: UnitOfWorkFactory, community: CommunityProfile
) -> None:
    async with uow_factory() as uow:
        await quizzes.add_schedule(
            uow, community, "every day 20:00", topic=None, count=1, now=START, actor=7
        )
        await uow.commit()

    # Down from before 20:00 until 20:20: the round starts late, once.
    late = VirtualClock(datetime(2026, 3, 2, 20, 20, tzinfo=UTC))
    await timetable(uow_factory, late).rebuild()
    await timetable(uow_factory, late).rebuild()
    assert await rounds(uow_factory) == 1
    async with uow_factory() as uow:
        (running,) = await uow.quizzes.running_rounds(GROUP)
        await uow.quizzes.finish_round(running.id, late.now())
        await uow.commit()

    # Down all the next evening, back at 22:00: that day's round is skipped, not run.
    next_day = VirtualClock(datetime(2026, 3, 3, 22, 0, tzinfo=UTC))
    await timetable(uow_factory, next_day).rebuild()
    assert await rounds(uow_factory) == 1


async def test_a_schedule_needs_readable_words_a_future_time_and_questions_to_ask(
    uow_factory: UnitOfWorkFactory, community: CommunityProfile
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(InvalidSchedule):
            await quizzes.add_schedule(
                uow, community, "whenever", topic=None, count=1, now=START, actor=7
            )
        with pytest.raises(InvalidSchedule):
            await quizzes.add_schedule(
                uow, community, "2026-03-01 20:00", topic=None, count=1, now=START, actor=7
            )
        with pytest.raises(quizzes.NoQuestions):
            await quizzes.add_schedule(
                uow, community, "每周五 20:00", topic="cooking", count=1, now=START, actor=7
            )
        planned = await quizzes.add_schedule(
            uow, community, "每周五 20:00", topic="history", count=1, now=START, actor=7
        )
        assert planned.next_run == FRIDAY_EIGHT_PM
