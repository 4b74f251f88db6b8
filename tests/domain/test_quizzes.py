"""Quiz rules: which questions Telegram would take, what answers earn, results and mastery."""

from __future__ import annotations

import pytest

from hearth.domain.quizzes import (
    AnswerLine,
    Difficulty,
    Problem,
    Question,
    Scoring,
    TopicBook,
    plan_import,
    question_from,
    round_result,
)

GOOD = {
    "text": "How often should engine oil be changed?",
    "options": ["Every 10,000 km or 12 months", "Never", "Every week"],
    "correct": "1",
    "explanation": "Most manuals ask for 10,000 km or a year, whichever comes first.",
    "topic": "Maintenance",
    "difficulty": "easy",
}


def test_a_good_record_becomes_a_question_with_a_zero_based_answer() -> None:
    question = question_from(GOOD)
    assert question == Question(
        GOOD["text"],  # type: ignore[arg-type]
        ("Every 10,000 km or 12 months", "Never", "Every week"),
        0,
        GOOD["explanation"],  # type: ignore[arg-type]
        "maintenance",
        Difficulty.EASY,
    )


@pytest.mark.parametrize(
    ("correct", "index"), [("2", 1), ("B", 1), ("c", 2), ("never", 1), (" Every week ", 2)]
)
def test_the_correct_answer_may_be_a_number_a_letter_or_the_option_itself(
    correct: str, index: int
) -> None:
    question = question_from({**GOOD, "correct": correct})
    assert isinstance(question, Question)
    assert question.correct == index


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"text": "  "}, Problem.NO_TEXT),
        ({"text": "x" * 301}, Problem.TEXT_TOO_LONG),
        ({"options": ["only one"]}, Problem.TOO_FEW_OPTIONS),
        ({"options": [str(n) for n in range(11)]}, Problem.TOO_MANY_OPTIONS),
        ({"options": ["a", "b" * 101]}, Problem.OPTION_TOO_LONG),
        ({"options": ["Yes", "yes "]}, Problem.REPEATED_OPTION),
        ({"correct": ""}, Problem.NO_CORRECT_ANSWER),
        ({"correct": "4"}, Problem.CORRECT_ANSWER_UNKNOWN),
        ({"correct": "D"}, Problem.CORRECT_ANSWER_UNKNOWN),
        ({"correct": "sometimes"}, Problem.CORRECT_ANSWER_UNKNOWN),
        ({"explanation": "e" * 201}, Problem.EXPLANATION_TOO_LONG),
        ({"difficulty": "insane"}, Problem.BAD_DIFFICULTY),
    ],
)
def test_a_record_telegram_would_refuse_is_rejected_with_its_reason(
    change: dict[str, object], problem: Problem
) -> None:
    outcome = question_from({**GOOD, **change})
    assert isinstance(outcome, tuple)
    assert outcome[0] is problem


def test_ten_options_and_limits_exactly_at_telegrams_maximum_are_accepted() -> None:
    record = {
        **GOOD,
        "text": "q" * 300,
        "options": [f"{n}" + "o" * 98 for n in range(10)],
        "correct": "10",
        "explanation": "e" * 200,
    }
    question = question_from(record)
    assert isinstance(question, Question)
    assert question.correct == 9


def test_duplicates_of_the_bank_or_of_an_earlier_row_are_rejected_by_row() -> None:
    again = {**GOOD, "text": "how often should ENGINE oil be changed"}
    other = {**GOOD, "text": "What does ABS stand for?", "options": ["Anti-lock", "Auto"]}
    plan = plan_import([GOOD, again, other], known=[])
    assert [q.text for q in plan.accepted] == [GOOD["text"], "What does ABS stand for?"]
    assert [(r.row, r.problem) for r in plan.rejected] == [(2, Problem.DUPLICATE)]

    assert question_from(GOOD) is not None
    known = [question.fingerprint for question in plan.accepted]
    plan = plan_import([other], known=known)
    assert plan.accepted == ()
    assert plan.rejected[0].problem is Problem.DUPLICATE


def test_a_fast_correct_answer_earns_the_whole_bonus_and_a_late_or_wrong_one_nothing() -> None:
    scoring = Scoring(base=10, speed_bonus=5, open_seconds=30)
    assert scoring.points(correct=True, seconds=0) == 15
    assert scoring.points(correct=True, seconds=15) == 13  # half the bonus, rounded
    assert scoring.points(correct=True, seconds=30) == 10
    assert scoring.points(correct=True, seconds=31) == 0
    assert scoring.points(correct=False, seconds=1) == 0


def test_results_rank_by_points_then_correct_answers_and_name_the_hardest_question() -> None:
    answers = [
        AnswerLine(1, 0, True, 15),
        AnswerLine(1, 1, False, 0),
        AnswerLine(2, 0, True, 12),
        AnswerLine(2, 1, True, 11),
        AnswerLine(3, 0, False, 0),
        AnswerLine(3, 1, False, 0),
    ]
    result = round_result(answers, questions=2)
    assert result.players == 3
    assert [(s.member_id, s.points, s.correct) for s in result.top] == [
        (2, 23, 2),
        (1, 15, 1),
        (3, 0, 0),
    ]
    assert result.hardest == 1
    assert result.hardest_share == pytest.approx(1 / 3)
    assert result.average_points == pytest.approx(38 / 3)


def test_a_round_without_answers_has_no_players_and_no_hardest_question() -> None:
    result = round_result([], questions=3)
    assert (result.players, result.top, result.hardest) == (0, (), None)


def test_a_topic_is_mastered_after_five_answers_with_four_in_five_right() -> None:
    book = TopicBook()
    for correct in (True, True, True, True, False):
        book.record("maintenance", correct)
    for correct in (True, False, False, False, True):
        book.record("history", correct)
    book.record("features", True)
    assert book.mastered() == {"maintenance"}
    assert book.to_practise(["maintenance", "history", "features", "safety"]) == [
        "safety",
        "features",
        "history",
    ]
