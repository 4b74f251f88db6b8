"""/quiz: practice in private, the season's leaderboard, rounds operators start, answers.

Operators start and stop rounds in the group (``/quiz start [topic] [n]``, ``/quiz stop``)
and import questions by sending a file in private with the caption ``/quiz_import``.
Members answer the quiz polls; every answer arrives as a ``poll_answer`` update.
"""

from __future__ import annotations

import random

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InputPollOption, Message, PollAnswer

from hearth.domain.errors import InvalidArgument, NotAnOperator
from hearth.domain.members import CommunityProfile, Person
from hearth.domain.quizzes import EXPLANATION_LIMIT
from hearth.domain.schedules import InvalidSchedule
from hearth.handlers import announcements_texts, quizzes_texts, texts
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.documents import document_bytes
from hearth.handlers.filters import InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.people import is_group
from hearth.handlers.personal import chosen_community, only_community
from hearth.services import quizzes
from hearth.services.ports import Clock, QuizRoundDriver, ScheduleWatcher, UnitOfWork
from hearth.services.quiz_files import (
    MAX_FILE_BYTES,
    UnreadableFile,
    format_of,
    read_records,
)

ROW_ID_LIMIT = 2**63 - 1  # a BIGINT: a larger number names no schedule and must not reach SQL


def build() -> Router:
    router = Router(name="quizzes")
    router.message.register(import_questions, Command("quiz_import"), F.document, InPrivate())
    # Non-operators' /quiz_import reaches the fallback's refusal (it is an operator command).
    router.message.register(import_without_file, Command("quiz_import"), InPrivate(), IsOperator())
    router.message.register(quiz, Command("quiz"))
    router.callback_query.register(
        chosen, CommunityChoice.filter(F.action.in_({"quiz", "quiz_top", "quiz_topics"}))
    )
    router.poll_answer.register(answer)
    return router


async def quiz(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    community: CommunityProfile | None,
    person: Person | None,
    operators: OperatorDirectory,
    quiz_rounds: QuizRoundDriver,
    quiz_timetable: ScheduleWatcher,
    clock: Clock,
) -> None:
    words = (command.args or "").split()
    action = words[0].lower() if words else ""
    if action in {"start", "stop", "schedule", "schedules", "unschedule"}:
        await _operate(
            message, words, bot, uow, community, operators, quiz_rounds, quiz_timetable, clock
        )
        return
    if action not in {"", "top", "topics"}:
        raise InvalidArgument(quizzes_texts.usage())
    if person is None:
        return
    if community is None:  # in private: the member's community, or a picker
        community = await only_community(message, uow, person.id, f"quiz_{action}".rstrip("_"))
        if community is None:
            return
    elif not action:
        await message.reply(quizzes_texts.practice_in_private())
        return
    await _answer_for(message, bot, uow, community, person.id, action, clock)


async def chosen(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None or not isinstance(query.message, Message):
        return
    await query.answer()
    action = callback_data.action.removeprefix("quiz").lstrip("_")
    await _answer_for(query.message, bot, uow, community, query.from_user.id, action, clock)


async def _answer_for(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    action: str,
    clock: Clock,
) -> None:
    if action == "top":
        lines = await quizzes.season_leaderboard(uow, community, clock.now())
        await message.answer(quizzes_texts.season(lines, community.title))
    elif action == "topics":
        counts = await uow.quizzes.topics(community.id)
        mastered = await quizzes.interests(uow, community.id, member_id)
        await message.answer(quizzes_texts.topics(counts, mastered))
    else:
        await _practice(message, bot, uow, community, member_id, clock)


async def _practice(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    clock: Clock,
) -> None:
    picked = await quizzes.practice_question(uow, community, member_id, random.Random())
    if picked is None:
        await message.answer(quizzes_texts.no_questions(None))
        return
    question_id, question = picked
    await message.answer(quizzes_texts.practice_intro())
    sent = await bot.send_poll(
        message.chat.id,
        question=question.text,
        options=[InputPollOption(text=option) for option in question.options],
        type="quiz",
        is_anonymous=False,
        correct_option_ids=[question.correct],
        explanation=question.explanation[:EXPLANATION_LIMIT] or None,
    )
    if sent.poll is None:
        return
    now = clock.now()
    await uow.quizzes.add_poll(
        sent.poll.id,
        round_id=None,
        community_id=community.id,
        question_id=question_id,
        position=0,
        chat_id=message.chat.id,
        message_id=sent.message_id,
        posted_at=now,
        closes_at=now + quizzes.PRACTICE_OPEN,
    )


async def _operate(
    message: Message,
    words: list[str],
    bot: Bot,
    uow: UnitOfWork,
    community: CommunityProfile | None,
    operators: OperatorDirectory,
    rounds: QuizRoundDriver,
    timetable: ScheduleWatcher,
    clock: Clock,
) -> None:
    assert message.from_user is not None
    if community is None or not is_group(message.chat):
        await message.answer(texts.group_only(f"quiz {words[0].lower()}"))
        return
    if not await operators.is_operator(bot, community.id, message.from_user.id):
        raise NotAnOperator()
    action = words[0].lower()
    if action in {"schedule", "schedules", "unschedule"}:
        await _schedules(message, action, words[1:], uow, community, timetable, clock)
        return
    if action == "stop":
        stopped = await rounds.stop_round(community)
        await message.answer(quizzes_texts.round_stopped() if stopped else quizzes_texts.no_round())
        return
    topic, count = parse_start(words[1:])
    try:
        started = await quizzes.start_round(
            uow,
            community,
            topic=topic,
            count=count,
            now=clock.now(),
            actor=message.from_user.id,
            rng=random.Random(),
        )
    except quizzes.NoQuestions as missing:
        await message.answer(quizzes_texts.no_questions(missing.topic))
        return
    except quizzes.RoundAlreadyRunning:
        await message.answer(quizzes_texts.round_running())
        return
    assert started is not None  # only scheduled runs can collide
    await uow.commit()
    await message.answer(
        quizzes_texts.round_started(len(started.question_ids), started.open_seconds)
    )
    await rounds.begin(started.id)


async def _schedules(
    message: Message,
    action: str,
    words: list[str],
    uow: UnitOfWork,
    community: CommunityProfile,
    timetable: ScheduleWatcher,
    clock: Clock,
) -> None:
    assert message.from_user is not None
    now = clock.now()
    if action == "schedules":
        plans = await quizzes.planned(uow, community, now)
        await message.answer(quizzes_texts.schedules(plans, community.timezone))
        return
    if action == "unschedule":
        if len(words) != 1 or not _is_number(words[0]):
            raise InvalidArgument(quizzes_texts.unschedule_usage())
        number = int(words[0])
        actor = message.from_user.id
        if number > ROW_ID_LIMIT or not await quizzes.unschedule(
            uow, community, number, now=now, actor=actor
        ):
            await message.answer(quizzes_texts.unknown_schedule(number))
            return
        uow.on_commit(lambda: timetable.changed(number))
        await message.answer(quizzes_texts.unscheduled(number))
        return
    when, topic, count = parse_schedule_words(words)
    try:
        planned = await quizzes.add_schedule(
            uow, community, when, topic=topic, count=count, now=now, actor=message.from_user.id
        )
    except InvalidSchedule as problem:
        await message.answer(
            announcements_texts.invalid_schedule(problem.problem, community.timezone)
        )
        return
    except quizzes.NoQuestions as missing:
        await message.answer(quizzes_texts.no_questions(missing.topic))
        return
    schedule_id = planned.schedule.id
    uow.on_commit(lambda: timetable.changed(schedule_id))
    await message.answer(quizzes_texts.scheduled(planned, community.timezone))


def parse_schedule_words(words: list[str]) -> tuple[str, str | None, int]:
    """``WHEN [topic=T] [questions=N]``: the schedule's words, its topic and size."""
    when: list[str] = []
    topic: str | None = None
    count = quizzes.DEFAULT_QUESTIONS
    for word in words:
        key, _, value = word.partition("=")
        if not value:
            when.append(word)
        elif key.lower() == "topic" and value:
            topic = value.lower()
        elif key.lower() in {"questions", "n"} and _is_number(value):
            count = int(value)
            if not 1 <= count <= quizzes.MAX_QUESTIONS:
                raise InvalidArgument(quizzes_texts.schedule_usage())
        else:
            raise InvalidArgument(quizzes_texts.schedule_usage())
    if not when:
        raise InvalidArgument(quizzes_texts.schedule_usage())
    return " ".join(when), topic, count


def _is_number(word: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes ``²``, which ``int`` refuses."""
    return word.isascii() and word.isdigit()


def parse_start(words: list[str]) -> tuple[str | None, int]:
    """``[topic] [n]`` in either order; the default is 5 questions of every topic."""
    topic: str | None = None
    count = quizzes.DEFAULT_QUESTIONS
    for word in words:
        if _is_number(word):
            count = int(word)
            if not 1 <= count <= quizzes.MAX_QUESTIONS:
                raise InvalidArgument(quizzes_texts.start_usage())
        elif topic is None:
            topic = word.lower()
        else:
            raise InvalidArgument(quizzes_texts.start_usage())
    return topic, count


async def answer(poll_answer: PollAnswer, uow: UnitOfWork, clock: Clock) -> None:
    """Record a vote; anonymous voters (a chat voting) and polls not ours are ignored."""
    if poll_answer.user is None or poll_answer.user.is_bot:
        return
    await quizzes.record_answer(
        uow,
        poll_id=poll_answer.poll_id,
        member_id=poll_answer.user.id,
        option_ids=list(poll_answer.option_ids),
        now=clock.now(),
    )


async def import_questions(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    assert message.document is not None
    assert message.from_user is not None
    operated = await operators.operated(bot, uow, message.from_user.id)
    if not operated:
        raise NotAnOperator()
    community = _target(operated, command.args)
    file_format = format_of(message.document.file_name or "")
    if file_format is None:
        await message.answer(quizzes_texts.unknown_format())
        return
    content = await document_bytes(bot, message.document, MAX_FILE_BYTES)
    if content is None:
        await message.answer(quizzes_texts.file_too_big())
        return
    try:
        records = read_records(content, file_format)
    except UnreadableFile as problem:
        await message.answer(quizzes_texts.unreadable_file(problem.reason))
        return
    report = await quizzes.import_questions(
        uow, community.id, records, now=clock.now(), actor=message.from_user.id
    )
    await message.answer(quizzes_texts.import_report(report, community.title))


def _target(operated: list[CommunityProfile], argument: str | None) -> CommunityProfile:
    """The community an import is for: the only one, or the one the caption names."""
    if argument:
        for community in operated:
            if str(community.id) == argument.strip():
                return community
    if len(operated) == 1 and not argument:
        return operated[0]
    choices = ", ".join(f"{community.id} ({community.title})" for community in operated)
    raise InvalidArgument(quizzes_texts.import_which(choices))


async def import_without_file(message: Message) -> None:
    await message.answer(quizzes_texts.import_prompt())
