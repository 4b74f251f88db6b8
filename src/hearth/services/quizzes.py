"""Quizzes: the question bank, rounds of quiz polls in the group, answers, practice.

A round is a small state machine kept in the database, so that a restart resumes it: each
step posts the next question once its predecessor has closed (claimed with a conditional
update, so that two drivers never post the same question), and the last step closes the
round, credits the points of the answers standing at that moment (idempotent per member ×
question × round) and queues the results for the group.
"""

from __future__ import annotations

import enum
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.calendar import local_day, start_of_local_day
from hearth.domain.errors import HearthError
from hearth.domain.members import CommunityProfile
from hearth.domain.points import EntryKind, rules_from_settings
from hearth.domain.quizzes import (
    MAX_OPEN_SECONDS,
    MIN_OPEN_SECONDS,
    ImportPlan,
    Question,
    QuizRound,
    QuizSchedule,
    RoundStatus,
    Scoring,
    TopicBook,
    choose_questions,
    plan_import,
    round_result,
    season_start,
)
from hearth.domain.schedules import (
    Schedule,
    catch_up,
    first_run,
    next_run,
    parse_schedule,
    schedule_from_spec,
)
from hearth.services import points
from hearth.services.ports import Clock, QuizPoster, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS = 5
MAX_QUESTIONS = 20
DEFAULT_OPEN_SECONDS = 30
RECENTLY = timedelta(days=30)  # questions asked since are used only when the bank runs short
LATE_GRACE = timedelta(seconds=2)  # Telegram closes the poll itself; allow for clock drift
PRACTICE_POINTS = 2  # per right practice answer …
PRACTICE_CREDITED_PER_DAY = 5  # … for this many answers a day
PRACTICE_OPEN = timedelta(days=1)
SCHEDULE_GRACE = timedelta(minutes=30)  # a scheduled round may start this late, no later
SCORING = Scoring(base=10, speed_bonus=5, open_seconds=DEFAULT_OPEN_SECONDS)


class NoQuestions(HearthError):
    """The bank holds no question (of that topic) to ask."""

    def __init__(self, topic: str | None) -> None:
        super().__init__(topic or "")
        self.topic = topic


class RoundAlreadyRunning(HearthError):
    """A community runs one round at a time."""


class AnswerOutcome(enum.StrEnum):
    RECORDED = "recorded"
    REPEATED = "repeated"  # the same answer again (a replayed update): nothing changes
    RETRACTED = "retracted"
    LATE = "late"
    NOT_OURS = "not_ours"  # a poll the bot did not send (or forgot)


@dataclass(frozen=True, slots=True)
class ImportReport:
    plan: ImportPlan
    added: int


@dataclass(frozen=True, slots=True)
class PlannedQuiz:
    """A quiz schedule with its parsed plan and its next run (None: none left)."""

    schedule: QuizSchedule
    plan: Schedule
    next_run: datetime | None


@dataclass(frozen=True, slots=True)
class SeasonLine:
    rank: int
    member_id: int
    name: str
    points: int
    correct: int


async def import_questions(
    uow: UnitOfWork,
    community_id: int,
    records: Sequence[Mapping[str, object]],
    *,
    now: datetime,
    actor: int | None,
) -> ImportReport:
    """Add the valid questions of a file; every other row is reported with its reason."""
    plan = plan_import(records, known=await uow.quizzes.fingerprints(community_id))
    added = await uow.quizzes.add_questions(community_id, plan.accepted, now, actor)
    if actor is not None:
        await uow.audit.record(
            community_id=community_id,
            actor_id=actor,
            action="quiz.import",
            details={"added": added, "rejected": len(plan.rejected)},
            now=now,
        )
    return ImportReport(plan, added)


async def start_round(
    uow: UnitOfWork,
    community: CommunityProfile,
    *,
    topic: str | None,
    count: int,
    now: datetime,
    actor: int | None,
    rng: random.Random,
    open_seconds: int = DEFAULT_OPEN_SECONDS,
    schedule_key: str | None = None,
) -> QuizRound | None:
    """Start a round of ``count`` questions (None: this scheduled run exists already)."""
    if await uow.quizzes.running_rounds(community.id):
        raise RoundAlreadyRunning()
    bank = await uow.quizzes.questions(community.id, topic)
    if not bank:
        raise NoQuestions(topic)
    recent = await uow.quizzes.recently_asked(community.id, now - RECENTLY)
    chosen = choose_questions([question_id for question_id, _ in bank], recent, count, rng)
    open_seconds = min(max(open_seconds, MIN_OPEN_SECONDS), MAX_OPEN_SECONDS)
    round_id = await uow.quizzes.add_round(
        community.id,
        chosen,
        topic=topic,
        open_seconds=open_seconds,
        now=now,
        actor=actor,
        schedule_key=schedule_key,
    )
    if round_id is None:
        return None
    if actor is not None:
        await uow.audit.record(
            community_id=community.id,
            actor_id=actor,
            action="quiz.start",
            details={"round": round_id, "topic": topic, "questions": len(chosen)},
            now=now,
        )
    return await uow.quizzes.round(round_id)


async def step(
    uow_factory: UnitOfWorkFactory, poster: QuizPoster, clock: Clock, round_id: int
) -> datetime | None:
    """Move a round on as far as the time allows; when to call again (None: it is over)."""
    async with uow_factory() as uow:
        quiz = await uow.quizzes.round(round_id)
        if quiz is None or quiz.status is not RoundStatus.RUNNING:
            return None
        polls = await uow.quizzes.polls_of(round_id)
        community = await uow.communities.get(quiz.community_id)
    now = clock.now()
    if polls and polls[-1].closes_at + LATE_GRACE > now:
        return polls[-1].closes_at + LATE_GRACE  # the current question is still open
    if community is None or not community.active:
        async with uow_factory() as uow:
            await uow.quizzes.finish_round(round_id, now, RoundStatus.CANCELLED)
            await uow.commit()
        return None
    if quiz.all_posted:
        await _finish(uow_factory, poster, quiz, community, now)
        return None
    return await _post_next(uow_factory, poster, quiz, community, now)


async def stop_round(
    uow_factory: UnitOfWorkFactory, poster: QuizPoster, clock: Clock, community: CommunityProfile
) -> bool:
    """End the community's running round now; the answers given so far still count."""
    async with uow_factory() as uow:
        running = await uow.quizzes.running_rounds(community.id)
    for quiz in running:
        await _finish(uow_factory, poster, quiz, community, clock.now())
    return bool(running)


async def _post_next(
    uow_factory: UnitOfWorkFactory,
    poster: QuizPoster,
    quiz: QuizRound,
    community: CommunityProfile,
    now: datetime,
) -> datetime:
    position = quiz.next_position
    async with uow_factory() as uow:
        if not await uow.quizzes.advance_round(quiz.id, position):
            return now  # another driver moved it on: look again
        found = await uow.quizzes.question(quiz.question_ids[position])
        await uow.commit()
    if found is None:  # deleted from the bank since: skip it
        return now
    question_id, question = found
    posted = await poster.post_question(
        community,
        question,
        position=position,
        total=len(quiz.question_ids),
        open_seconds=quiz.open_seconds,
    )
    if posted is None:  # Telegram refused it: go on with the next question
        return now
    closes_at = now + timedelta(seconds=quiz.open_seconds)
    async with uow_factory() as uow:
        await uow.quizzes.add_poll(
            posted.poll_id,
            round_id=quiz.id,
            community_id=community.id,
            question_id=question_id,
            position=position,
            chat_id=community.id,
            message_id=posted.message_id,
            posted_at=now,
            closes_at=closes_at,
        )
        await uow.commit()
    return closes_at + LATE_GRACE


async def _finish(
    uow_factory: UnitOfWorkFactory,
    poster: QuizPoster,
    quiz: QuizRound,
    community: CommunityProfile,
    now: datetime,
) -> None:
    rules = rules_from_settings(community.points_rules)
    async with uow_factory() as uow:
        if not await uow.quizzes.finish_round(quiz.id, now):
            return  # finished by another driver
        answers = await uow.quizzes.round_answers(quiz.id)
        for answer in answers:
            if answer.points <= 0:
                continue
            await points.credit(
                uow,
                community_id=community.id,
                member_id=answer.member_id,
                amount=answer.points,
                kind=EntryKind.EARN,
                reason="quiz",
                key=f"quiz:{quiz.id}:{answer.question}:{answer.member_id}",
                now=now,
                timezone=community.timezone,
                rules=rules,
            )
        result = round_result(answers, len(quiz.question_ids))
        hardest = None
        if result.hardest is not None:
            found = await uow.quizzes.question(quiz.question_ids[result.hardest])
            hardest = found[1] if found else None
        names = {
            standing.member_id: await _name(uow, standing.member_id) for standing in result.top
        }
        await poster.results(
            uow, f"quiz-results:{quiz.id}", community, result, hardest=hardest, names=names
        )
        await uow.commit()


async def _name(uow: UnitOfWork, member_id: int) -> str:
    member = await uow.members.get(member_id)
    return member.first_name if member is not None else str(member_id)


async def record_answer(
    uow: UnitOfWork,
    *,
    poll_id: str,
    member_id: int,
    option_ids: Sequence[int],
    now: datetime,
    update_id: int | None = None,
) -> AnswerOutcome:
    """Take a member's vote on a quiz poll, or its retraction."""
    poll = await uow.quizzes.poll(poll_id)
    if poll is None:
        return AnswerOutcome.NOT_OURS
    if now > poll.closes_at + LATE_GRACE:
        return AnswerOutcome.LATE
    if poll.round_id is not None:
        # A round stopped early leaves its poll open in Telegram; its points are credited
        # already, so later votes (and retractions) change nothing.
        quiz = await uow.quizzes.round(poll.round_id)
        if quiz is None or quiz.status is not RoundStatus.RUNNING:
            return AnswerOutcome.LATE
    if not option_ids:
        retracted = await uow.quizzes.retract_answer(poll_id, member_id)
        return AnswerOutcome.RETRACTED if retracted else AnswerOutcome.REPEATED
    found = await uow.quizzes.question(poll.question_id)
    if found is None:
        return AnswerOutcome.NOT_OURS
    _, question = found
    community = await uow.communities.get(poll.community_id)
    if community is None:
        return AnswerOutcome.NOT_OURS
    option = option_ids[0]
    correct = option == question.correct
    practice = poll.round_id is None
    earned = (
        0
        if practice
        else SCORING.points(correct=correct, seconds=(now - poll.posted_at).total_seconds())
    )
    if not await uow.quizzes.record_answer(
        poll,
        community_id=community.id,
        member_id=member_id,
        topic=question.topic,
        option=option,
        correct=correct,
        points=earned,
        now=now,
    ):
        return AnswerOutcome.REPEATED
    await uow.activity.add_many(
        [
            ActivityRecord(
                community_id=community.id,
                member_id=member_id,
                kind=ActivityKind.QUIZ_ANSWER,
                occurred_at=now,
                local_day=local_day(now, community.timezone),
                update_id=update_id,
            )
        ]
    )
    if practice and correct:
        await _credit_practice(uow, community, member_id, poll_id, now)
    return AnswerOutcome.RECORDED


async def _credit_practice(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, poll_id: str, now: datetime
) -> None:
    midnight = start_of_local_day(local_day(now, community.timezone), community.timezone)
    if await uow.quizzes.practice_answers_since(member_id, midnight) > PRACTICE_CREDITED_PER_DAY:
        return
    await points.credit(
        uow,
        community_id=community.id,
        member_id=member_id,
        amount=PRACTICE_POINTS,
        kind=EntryKind.EARN,
        reason="quiz_practice",
        key=f"quiz-practice:{poll_id}:{member_id}",
        now=now,
        timezone=community.timezone,
        rules=rules_from_settings(community.points_rules),
    )


async def practice_question(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, rng: random.Random
) -> tuple[int, Question] | None:
    """A question from a topic the member has not mastered (None: the bank is empty)."""
    bank = await uow.quizzes.questions(community.id)
    if not bank:
        return None
    book = await topic_book(uow, community.id, member_id)
    topics = book.to_practise(question.topic for _, question in bank) or sorted(
        {question.topic for _, question in bank}
    )
    answered = await uow.quizzes.answered_questions(community.id, member_id)
    for topic in topics:
        candidates = [pair for pair in bank if pair[1].topic == topic]
        fresh = [pair for pair in candidates if pair[0] not in answered] or candidates
        if fresh:
            return rng.choice(fresh)
    return None


async def topic_book(uow: UnitOfWork, community_id: int, member_id: int) -> TopicBook:
    book = TopicBook()
    for topic, correct in await uow.quizzes.topic_record(community_id, member_id):
        book.record(topic, correct)
    return book


async def interests(uow: UnitOfWork, community_id: int, member_id: int) -> set[str]:
    """Topics a member answers well: interest tags for engagement and nudges."""
    return (await topic_book(uow, community_id, member_id)).mastered()


async def season_leaderboard(
    uow: UnitOfWork, community: CommunityProfile, now: datetime, limit: int = 10
) -> list[SeasonLine]:
    """The quiz season's (calendar quarter's) best players by points, then right answers."""
    first = season_start(local_day(now, community.timezone))
    since = start_of_local_day(first, community.timezone)
    lines = []
    for rank, (member_id, earned, correct) in enumerate(
        await uow.quizzes.season_points(community.id, since, limit), start=1
    ):
        lines.append(SeasonLine(rank, member_id, await _name(uow, member_id), earned, correct))
    return lines


# -- scheduled rounds


async def add_schedule(
    uow: UnitOfWork,
    community: CommunityProfile,
    when: str,
    *,
    topic: str | None,
    count: int,
    now: datetime,
    actor: int | None,
) -> PlannedQuiz:
    """Schedule rounds (``InvalidSchedule`` for words it cannot read or a time gone by)."""
    plan = parse_schedule(when, today=local_day(now, community.timezone))
    upcoming = first_run(plan, now, community.timezone)
    if not await uow.quizzes.questions(community.id, topic):
        raise NoQuestions(topic)
    schedule_id = await uow.quizzes.add_schedule(
        community.id, plan.spec(), topic=topic, questions=count, now=now, actor=actor
    )
    if actor is not None:
        await uow.audit.record(
            community_id=community.id,
            actor_id=actor,
            action="quiz.schedule",
            details={"schedule": schedule_id, "when": plan.spec(), "topic": topic},
            now=now,
        )
    schedule = await uow.quizzes.schedule(schedule_id)
    assert schedule is not None
    return PlannedQuiz(schedule, plan, upcoming)


async def planned(uow: UnitOfWork, community: CommunityProfile, now: datetime) -> list[PlannedQuiz]:
    """The community's quiz schedules with their next runs."""
    found = []
    for schedule in await uow.quizzes.schedules(community.id):
        plan = schedule_from_spec(schedule.spec)
        found.append(PlannedQuiz(schedule, plan, next_run(plan, now, community.timezone)))
    return found


async def unschedule(
    uow: UnitOfWork, community: CommunityProfile, schedule_id: int, *, now: datetime, actor: int
) -> bool:
    """Delete one of the community's schedules; False when it has no such schedule."""
    schedule = await uow.quizzes.schedule(schedule_id)
    if schedule is None or schedule.community_id != community.id:
        return False
    await uow.quizzes.delete_schedule(schedule_id, now)
    await uow.audit.record(
        community_id=community.id,
        actor_id=actor,
        action="quiz.unschedule",
        details={"schedule": schedule_id},
        now=now,
    )
    return True


async def scheduled_ids(uow_factory: UnitOfWorkFactory) -> list[int]:
    async with uow_factory() as uow:
        return [schedule.id for schedule in await uow.quizzes.schedules()]


async def run_scheduled(
    uow_factory: UnitOfWorkFactory,
    schedule_id: int,
    *,
    now: datetime,
    rng: random.Random,
    grace: timedelta = SCHEDULE_GRACE,
) -> tuple[QuizRound | None, datetime | None]:
    """Start the round that is due (on time, or late within ``grace``; older ones are
    skipped), at most once per scheduled instant. Returns it and the next instant."""
    async with uow_factory() as uow:
        schedule = await uow.quizzes.schedule(schedule_id)
        community = await uow.communities.get(schedule.community_id) if schedule else None
        if schedule is None or community is None:
            return None, None
        plan = schedule_from_spec(schedule.spec)
        decision = catch_up(
            plan, community.timezone, since=schedule.handled_until, now=now, grace=grace
        )
        started = None
        if decision.run is not None and community.active:
            try:
                started = await start_round(
                    uow,
                    community,
                    topic=schedule.topic,
                    count=schedule.questions,
                    now=now,
                    actor=None,
                    rng=rng,
                    schedule_key=f"quiz-schedule:{schedule_id}:{decision.run.isoformat()}",
                )
            except (NoQuestions, RoundAlreadyRunning) as reason:
                log.warning("scheduled quiz %d skipped: %s", schedule_id, type(reason).__name__)
        handled = [moment for moment in (*decision.skipped, decision.run) if moment is not None]
        if handled:
            await uow.quizzes.mark_handled(schedule_id, max(handled))
        await uow.commit()
    return started, next_run(plan, now, community.timezone)
