"""Question banks from YAML, CSV and JSON: the same questions, and clear errors for bad files."""

from __future__ import annotations

import pytest

from hearth.domain.quizzes import Problem, plan_import
from hearth.services.quiz_files import FileFormat, UnreadableFile, format_of, read_records

YAML = """
questions:
  - text: What does ABS stand for?
    options: [Anti-lock braking system, Automatic body stability]
    correct: A
    topic: safety
  - text: Which tyre pressure is right?
    options: [The one on the door sticker, As high as possible]
    correct: 1
    difficulty: easy
  - just a line
"""

JSON = """[
  {"text": "What does ABS stand for?", "options": ["Anti-lock braking system", "Auto"],
   "correct": "Anti-lock braking system", "topic": "safety"},
  {"text": "Too many", "options": ["1","2","3","4","5","6","7","8","9","10","11"], "correct": 1}
]"""

CSV = (
    "text,option1,option2,option3,correct,explanation,topic,difficulty\n"
    "What does ABS stand for?,Anti-lock braking system,Automatic body stability,,A,,safety,\n"
    "No answer given,yes,no,,,,general,\n"
    "Which year was the brand founded?,1916,1926,1936,2,Founded in 1926.,history,hard\n"
)


def test_yaml_questions_are_read_and_a_row_that_is_no_question_is_rejected_by_number() -> None:
    plan = plan_import(read_records(YAML.encode(), FileFormat.YAML))
    assert [q.text for q in plan.accepted] == [
        "What does ABS stand for?",
        "Which tyre pressure is right?",
    ]
    assert [(r.row, r.problem) for r in plan.rejected] == [(3, Problem.NO_TEXT)]


def test_json_questions_are_read_and_too_many_options_are_reported() -> None:
    plan = plan_import(read_records(JSON.encode(), FileFormat.JSON))
    assert plan.accepted[0].correct == 0
    assert [(r.row, r.problem, r.detail) for r in plan.rejected] == [
        (2, Problem.TOO_MANY_OPTIONS, "11")
    ]


def test_csv_rows_with_numbered_option_columns_are_read() -> None:
    plan = plan_import(read_records(CSV.encode("utf-8-sig"), FileFormat.CSV))
    assert [(q.text, q.options, q.correct, q.topic) for q in plan.accepted] == [
        (
            "What does ABS stand for?",
            ("Anti-lock braking system", "Automatic body stability"),
            0,
            "safety",
        ),
        ("Which year was the brand founded?", ("1916", "1926", "1936"), 1, "history"),
    ]
    assert [(r.row, r.problem) for r in plan.rejected] == [(2, Problem.NO_CORRECT_ANSWER)]


def test_csv_options_may_share_one_column_separated_by_bars() -> None:
    records = read_records(
        "text;options;correct\n保养多久一次？;每年一次|从不;1\n".encode(), FileFormat.CSV
    )
    plan = plan_import(records)
    assert plan.accepted[0].options == ("每年一次", "从不")


@pytest.mark.parametrize(
    ("content", "file_format", "reason"),
    [
        (b"questions: [unclosed", FileFormat.YAML, "not valid YAML"),
        (b"{", FileFormat.JSON, "not valid JSON"),
        (b'{"text": "a single question"}', FileFormat.JSON, "expected a list of questions"),
        (b"question,answer\nx,y\n", FileFormat.CSV, "the first row must name the columns"),
        (b"\xff\xfe\x00", FileFormat.CSV, "not UTF-8 text"),
        (b"[]", FileFormat.JSON, "no questions found"),
    ],
)
def test_a_broken_file_is_one_clear_error(
    content: bytes, file_format: FileFormat, reason: str
) -> None:
    with pytest.raises(UnreadableFile) as error:
        read_records(content, file_format)
    assert error.value.reason.startswith(reason)


def test_the_format_comes_from_the_file_name() -> None:
    assert format_of("bank.YML") is FileFormat.YAML
    assert format_of("bank.csv") is FileFormat.CSV
    assert format_of("bank.json") is FileFormat.JSON
    assert format_of("bank.xlsx") is None
    assert format_of("bank") is None
