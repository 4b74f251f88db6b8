"""Every text of quizzes, through gettext; questions and names are HTML-escaped."""

from __future__ import annotations

from collections.abc import Mapping

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from hearth.domain.quizzes import (
    MAX_OPTIONS,
    OPTION_LIMIT,
    QUESTION_LIMIT,
    Problem,
    Question,
    Rejection,
    RoundResult,
)
from hearth.handlers import announcements_texts
from hearth.handlers.texts import quote
from hearth.services.quizzes import (
    MAX_QUESTIONS,
    PRACTICE_POINTS,
    ImportReport,
    PlannedQuiz,
    SeasonLine,
)

SHOWN_REJECTIONS = 15


def usage() -> str:
    return _(
        "Quizzes:\n"
        "/quiz — a practice question in private\n"
        "/quiz top — this season's best players\n"
        "/quiz topics — the topics of the question bank\n"
        "Operators, in the group: /quiz start [topic] [number of questions], /quiz stop, "
        "/quiz schedule WHEN [topic=…] [questions=N] (e.g. every Friday 20:00), "
        "/quiz schedules, /quiz unschedule NUMBER; add questions by sending a YAML, CSV or "
        "JSON file to me in private with the caption /quiz_import"
    )


def start_usage() -> str:
    return _("Usage: /quiz start [topic] [number of questions, 1 to {most}]").format(
        most=MAX_QUESTIONS
    )


def no_questions(topic: str | None) -> str:
    if topic:
        return _(
            "The question bank has no questions on “{topic}”. See /quiz topics, or import "
            "some with /quiz_import."
        ).format(topic=quote(topic))
    return _(
        "The question bank is empty. Send a YAML, CSV or JSON file in private with the "
        "caption /quiz_import to add questions."
    )


def schedule_usage() -> str:
    return _(
        "Usage: /quiz schedule WHEN [topic=…] [questions=N], for example "
        "/quiz schedule every Friday 20:00 topic=history questions=5 "
        "(times are the community's; 每周五 20:00 works too)"
    )


def unschedule_usage() -> str:
    return _("Usage: /quiz unschedule NUMBER (see /quiz schedules)")


def scheduled(planned: PlannedQuiz, timezone: str) -> str:
    lines = [
        _("Quiz #{number} is scheduled {when}: {count} questions, {topic}.").format(
            number=planned.schedule.id,
            when=announcements_texts.schedule(planned.plan),
            count=planned.schedule.questions,
            topic=_topic(planned.schedule.topic),
        )
    ]
    if planned.next_run is not None:
        lines.append(
            _("First round: {moment}.").format(
                moment=announcements_texts.moment(planned.next_run, timezone)
            )
        )
    return "\n".join(lines)


def schedules(plans: list[PlannedQuiz], timezone: str) -> str:
    if not plans:
        return _("No quiz rounds are scheduled. Add one with /quiz schedule.")
    lines = [_("<b>Scheduled quizzes</b>")]
    for planned in plans:
        upcoming = (
            announcements_texts.moment(planned.next_run, timezone)
            if planned.next_run is not None
            else _("no run left")
        )
        lines.append(
            _("#{number} {when} · {count} questions, {topic} · next: {moment}").format(
                number=planned.schedule.id,
                when=announcements_texts.schedule(planned.plan),
                count=planned.schedule.questions,
                topic=_topic(planned.schedule.topic),
                moment=upcoming,
            )
        )
    lines.append(_("Remove one with /quiz unschedule NUMBER."))
    return "\n".join(lines)


def unscheduled(number: int) -> str:
    return _("Quiz #{number} is no longer scheduled.").format(number=number)


def unknown_schedule(number: int) -> str:
    return _("There is no scheduled quiz #{number} here. See /quiz schedules.").format(
        number=number
    )


def _topic(topic: str | None) -> str:
    return _("topic “{topic}”").format(topic=quote(topic)) if topic else _("all topics")


def round_running() -> str:
    return _("A quiz round is already running here. /quiz stop ends it.")


def round_started(questions: int, open_seconds: int) -> str:
    return ngettext(
        "A quiz of {count} question starts now! You have {seconds} seconds to answer; "
        "quick right answers earn a bonus.",
        "A quiz of {count} questions starts now! You have {seconds} seconds for each; "
        "quick right answers earn a bonus.",
        questions,
    ).format(count=questions, seconds=open_seconds)


def round_stopped() -> str:
    return _("The quiz round was stopped; the answers given so far still count.")


def no_round() -> str:
    return _("No quiz round is running here.")


def question_heading(position: int, total: int, question: Question) -> str:
    """The poll's question text: Telegram allows 300 characters, the number comes first."""
    heading = f"{position + 1}/{total}. {question.text}"
    return heading if len(heading) <= QUESTION_LIMIT else question.text


def results(result: RoundResult, hardest: Question | None, names: Mapping[int, str]) -> str:
    if not result.players:
        return _("The quiz is over. Nobody answered this time — next round, perhaps?")
    lines = [
        ngettext(
            "<b>The quiz is over!</b> {count} player took part.",
            "<b>The quiz is over!</b> {count} players took part.",
            result.players,
        ).format(count=result.players)
    ]
    medals = ("🥇", "🥈", "🥉")
    for place, standing in enumerate(result.top):
        mark = medals[place] if place < len(medals) else f"{place + 1}."
        lines.append(
            _("{mark} {name}: {points} points ({right} right)").format(
                mark=mark,
                name=quote(names.get(standing.member_id, str(standing.member_id))),
                points=standing.points,
                right=standing.correct,
            )
        )
    if hardest is not None:
        lines.append(
            _("Hardest question: “{text}” — {share:.0%} answered it right.").format(
                text=quote(hardest.text), share=result.hardest_share
            )
        )
    lines.append(_("Points are in your balance. /quiz top shows the season."))
    return "\n".join(lines)


def season(lines: list[SeasonLine], title: str) -> str:
    if not lines:
        return _("No quiz answers this season in {title} yet.").format(title=quote(title))
    rows = [_("<b>Quiz season in {title}</b>").format(title=quote(title))]
    rows += [
        _("{rank}. {name}: {points} points, {right} right").format(
            rank=line.rank, name=quote(line.name), points=line.points, right=line.correct
        )
        for line in lines
    ]
    return "\n".join(rows)


def topics(counts: Mapping[str, int], mastered: set[str]) -> str:
    if not counts:
        return no_questions(None)
    rows = [_("<b>Topics of the question bank</b>")]
    for topic, count in sorted(counts.items()):
        mark = " ✅" if topic in mastered else ""
        rows.append(
            ngettext(
                "{topic}: {count} question{mark}", "{topic}: {count} questions{mark}", count
            ).format(topic=quote(topic), count=count, mark=mark)
        )
    if mastered:
        rows.append(_("✅ a topic you have mastered."))
    return "\n".join(rows)


def practice_intro(points: int = PRACTICE_POINTS) -> str:
    return _(
        "Practice question — from a topic you have not mastered yet. A right answer earns "
        "{points} points (a few times a day)."
    ).format(points=points)


def practice_in_private() -> str:
    return _("Practice questions come in private: open a chat with me and send /quiz.")


def import_prompt() -> str:
    return _(
        "Send the question file (YAML, CSV or JSON) in private with the caption /quiz_import. "
        "Each question needs a text, 2 to {options} options and the right answer."
    ).format(options=MAX_OPTIONS)


def import_which(choices: str) -> str:
    return _(
        "You run several communities: name the one in the caption, e.g. /quiz_import -100123. "
        "Yours: {choices}"
    ).format(choices=quote(choices))


def unreadable_file(reason: str) -> str:
    return _("I could not read that file: {reason}.").format(reason=quote(reason))


def unknown_format() -> str:
    return _("Send a .yaml, .yml, .csv or .json file.")


def file_too_big() -> str:
    return _("That file is too big for a question bank (2 MB at most).")


def import_report(report: ImportReport, title: str) -> str:
    lines = [
        ngettext(
            "{count} question added to {title}.",
            "{count} questions added to {title}.",
            report.added,
        ).format(count=report.added, title=quote(title))
    ]
    rejected = report.plan.rejected
    if rejected:
        lines.append(
            ngettext(
                "{count} row was rejected:", "{count} rows were rejected:", len(rejected)
            ).format(count=len(rejected))
        )
        lines += [f"• {rejection_line(rejection)}" for rejection in rejected[:SHOWN_REJECTIONS]]
        if len(rejected) > SHOWN_REJECTIONS:
            lines.append(_("… and {count} more.").format(count=len(rejected) - SHOWN_REJECTIONS))
    return "\n".join(lines)


def rejection_line(rejection: Rejection) -> str:
    reasons = {
        Problem.NO_TEXT: _("no question text"),
        Problem.TEXT_TOO_LONG: _("the question is longer than {limit} characters").format(
            limit=QUESTION_LIMIT
        ),
        Problem.TOO_FEW_OPTIONS: _("fewer than 2 options"),
        Problem.TOO_MANY_OPTIONS: _("more than {limit} options").format(limit=MAX_OPTIONS),
        Problem.OPTION_TOO_LONG: _("an option is longer than {limit} characters").format(
            limit=OPTION_LIMIT
        ),
        Problem.REPEATED_OPTION: _("two options are the same"),
        Problem.NO_CORRECT_ANSWER: _("no correct answer given"),
        Problem.CORRECT_ANSWER_UNKNOWN: _("the correct answer is not one of the options"),
        Problem.EXPLANATION_TOO_LONG: _("the explanation is longer than 200 characters"),
        Problem.BAD_DIFFICULTY: _("difficulty must be easy, medium or hard"),
        Problem.TOPIC_TOO_LONG: _("the topic is longer than 32 characters"),
        Problem.DUPLICATE: _("a duplicate of a question already in the bank"),
    }
    line = _("row {row}: {reason}").format(row=rejection.row, reason=reasons[rejection.problem])
    return f"{line} ({quote(rejection.detail)})" if rejection.detail else line
