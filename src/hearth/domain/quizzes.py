"""Quiz rules: what a valid question is, what an answer earns, who mastered which topic.

Telegram's quiz polls set the limits: a question of 1–300 characters, 2–10 options of
1–100 characters each, an explanation of at most 200 characters, and an ``open_period``
of 5–600 seconds. A question that breaks them is rejected at import with the reason, so
that a round never fails half-way on Telegram's side.
"""

from __future__ import annotations

import enum
import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

QUESTION_LIMIT = 300
OPTION_LIMIT = 100
EXPLANATION_LIMIT = 200
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MIN_OPEN_SECONDS, MAX_OPEN_SECONDS = 5, 600
TOPIC_LIMIT = 32

# Mastery: enough answers on a topic, and most of them right.
MASTERY_ANSWERS = 5
MASTERY_SHARE = 0.8


class Difficulty(enum.IntEnum):
    EASY = 1
    MEDIUM = 2
    HARD = 3


_DIFFICULTY_NAMES = {
    "easy": Difficulty.EASY,
    "medium": Difficulty.MEDIUM,
    "hard": Difficulty.HARD,
    "简单": Difficulty.EASY,
    "中等": Difficulty.MEDIUM,
    "困难": Difficulty.HARD,
    "1": Difficulty.EASY,
    "2": Difficulty.MEDIUM,
    "3": Difficulty.HARD,
}


class Problem(enum.StrEnum):
    """Why a question was rejected (the texts are rendered by the handlers)."""

    NO_TEXT = "no_text"
    TEXT_TOO_LONG = "text_too_long"
    TOO_FEW_OPTIONS = "too_few_options"
    TOO_MANY_OPTIONS = "too_many_options"
    OPTION_TOO_LONG = "option_too_long"
    REPEATED_OPTION = "repeated_option"
    NO_CORRECT_ANSWER = "no_correct_answer"
    CORRECT_ANSWER_UNKNOWN = "correct_answer_unknown"
    EXPLANATION_TOO_LONG = "explanation_too_long"
    BAD_DIFFICULTY = "bad_difficulty"
    TOPIC_TOO_LONG = "topic_too_long"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Question:
    """A question as Telegram will show it."""

    text: str
    options: tuple[str, ...]
    correct: int  # index into options
    explanation: str = ""
    topic: str = "general"
    difficulty: Difficulty = Difficulty.MEDIUM

    @property
    def fingerprint(self) -> str:
        """The question's identity for duplicate checks: case, width and spaces ignored."""
        return fingerprint(self.text)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row of an imported file that was not taken, and why."""

    row: int  # 1-based, as a spreadsheet shows it (header excluded)
    problem: Problem
    detail: str = ""  # e.g. the option that is too long, or the length found


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import would add and what it turns away."""

    accepted: tuple[Question, ...]
    rejected: tuple[Rejection, ...]


def fingerprint(text: str) -> str:
    normalised = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", normalised).strip(" ?？!！.。")


def question_from(raw: Mapping[str, object]) -> Question | tuple[Problem, str]:
    """A question from one imported record, or the first problem found with it.

    ``raw`` holds ``text``, ``options`` (a sequence), ``correct`` (1-based number, letter
    A–J, or the option's own text), and optionally ``explanation``, ``topic``,
    ``difficulty`` (easy / medium / hard, or 1–3).
    """
    text = _clean(raw.get("text"))
    if not text:
        return Problem.NO_TEXT, ""
    if len(text) > QUESTION_LIMIT:
        return Problem.TEXT_TOO_LONG, str(len(text))
    options_raw = raw.get("options") or ()
    if isinstance(options_raw, str) or not isinstance(options_raw, Iterable):
        options_raw = ()
    options = tuple(option for option in (_clean(each) for each in options_raw) if option)
    if len(options) < MIN_OPTIONS:
        return Problem.TOO_FEW_OPTIONS, str(len(options))
    if len(options) > MAX_OPTIONS:
        return Problem.TOO_MANY_OPTIONS, str(len(options))
    for option in options:
        if len(option) > OPTION_LIMIT:
            return Problem.OPTION_TOO_LONG, option[:40]
    if len({fingerprint(option) for option in options}) < len(options):
        return Problem.REPEATED_OPTION, ""
    correct_raw = _clean(raw.get("correct"))
    if not correct_raw:
        return Problem.NO_CORRECT_ANSWER, ""
    correct = _correct_index(correct_raw, options)
    if correct is None:
        return Problem.CORRECT_ANSWER_UNKNOWN, correct_raw[:40]
    explanation = _clean(raw.get("explanation"))
    if len(explanation) > EXPLANATION_LIMIT:
        return Problem.EXPLANATION_TOO_LONG, str(len(explanation))
    topic = _clean(raw.get("topic")).lower() or "general"
    if len(topic) > TOPIC_LIMIT:
        return Problem.TOPIC_TOO_LONG, topic[:40]
    difficulty_raw = _clean(raw.get("difficulty")).lower()
    difficulty = _DIFFICULTY_NAMES.get(difficulty_raw or "medium")
    if difficulty is None:
        return Problem.BAD_DIFFICULTY, difficulty_raw[:20]
    return Question(text, options, correct, explanation, topic, difficulty)


def plan_import(records: Sequence[Mapping[str, object]], known: Iterable[str] = ()) -> ImportPlan:
    """Validate every record; duplicates of the bank (``known`` fingerprints) or of an
    earlier row of the same file are rejected."""
    seen = set(known)
    accepted: list[Question] = []
    rejected: list[Rejection] = []
    for row, raw in enumerate(records, start=1):
        outcome = question_from(raw)
        if isinstance(outcome, tuple):
            rejected.append(Rejection(row, *outcome))
            continue
        if outcome.fingerprint in seen:
            rejected.append(Rejection(row, Problem.DUPLICATE, outcome.text[:40]))
            continue
        seen.add(outcome.fingerprint)
        accepted.append(outcome)
    return ImportPlan(tuple(accepted), tuple(rejected))


def _clean(value: object) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split())


def _correct_index(answer: str, options: Sequence[str]) -> int | None:
    if answer.isdigit():
        index = int(answer) - 1
        return index if 0 <= index < len(options) else None
    if len(answer) == 1 and "A" <= answer.upper() <= "J":
        index = ord(answer.upper()) - ord("A")
        return index if index < len(options) else None
    wanted = fingerprint(answer)
    for index, option in enumerate(options):
        if fingerprint(option) == wanted:
            return index
    return None


# -- rounds


class RoundStatus(enum.StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class QuizRound:
    id: int
    community_id: int
    topic: str | None
    question_ids: tuple[int, ...]
    open_seconds: int
    status: RoundStatus
    next_position: int  # the next question to post
    started_at: datetime

    @property
    def all_posted(self) -> bool:
        return self.next_position >= len(self.question_ids)


@dataclass(frozen=True, slots=True)
class QuizPoll:
    """A quiz poll the bot posted (``round_id`` None: a practice question in private)."""

    poll_id: str
    round_id: int | None
    community_id: int
    question_id: int
    position: int
    chat_id: int
    posted_at: datetime
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class QuizSchedule:
    """A recurring round (``spec`` as ``hearth.domain.schedules`` writes it)."""

    id: int
    community_id: int
    spec: str
    topic: str | None
    questions: int
    handled_until: datetime


@dataclass(frozen=True, slots=True)
class PostedPoll:
    """What Telegram answered when a quiz poll was posted."""

    poll_id: str
    message_id: int


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    option: int | None  # None: the vote was retracted
    correct: bool
    points: int


def choose_questions(
    candidates: Sequence[int], recently_asked: Iterable[int], count: int, rng: random.Random
) -> list[int]:
    """``count`` questions, those not asked recently first, in a random order."""
    recent = set(recently_asked)
    fresh = [question for question in candidates if question not in recent]
    stale = [question for question in candidates if question in recent]
    rng.shuffle(fresh)
    rng.shuffle(stale)
    return (fresh + stale)[:count]


def season_start(day: date) -> date:
    """The first day of the quiz season (a calendar quarter) that ``day`` falls in."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


# -- scoring


@dataclass(frozen=True, slots=True)
class Scoring:
    """What a correct answer earns: ``base`` points, plus up to ``speed_bonus`` for speed."""

    base: int = 10
    speed_bonus: int = 5
    open_seconds: int = 30

    def points(self, *, correct: bool, seconds: float) -> int:
        """Points for one answer given ``seconds`` after the question was posted.

        The bonus falls linearly from full (answered at once) to nothing at the end of the
        question's open period; a wrong or late answer earns nothing.
        """
        if not correct or seconds > self.open_seconds:
            return 0
        share = 1 - max(seconds, 0) / self.open_seconds
        return self.base + int(self.speed_bonus * share + 0.5)  # half rounds up


# -- results


@dataclass(frozen=True, slots=True)
class AnswerLine:
    member_id: int
    question: int  # the question's position in the round
    correct: bool
    points: int


@dataclass(frozen=True, slots=True)
class Standing:
    member_id: int
    points: int
    correct: int


@dataclass(frozen=True, slots=True)
class RoundResult:
    """What the group is told when a round ends."""

    players: int
    top: tuple[Standing, ...]
    hardest: int | None  # position of the question fewest answered right
    hardest_share: float  # its share of correct answers
    average_points: float


def round_result(answers: Iterable[AnswerLine], questions: int, top: int = 5) -> RoundResult:
    """Ranking by points, then by correct answers; ties keep the member id order."""
    points: defaultdict[int, int] = defaultdict(int)
    right: defaultdict[int, int] = defaultdict(int)
    per_question: defaultdict[int, list[bool]] = defaultdict(list)
    for answer in answers:
        points[answer.member_id] += answer.points
        right[answer.member_id] += answer.correct
        per_question[answer.question].append(answer.correct)
    standings = sorted(
        (Standing(member, points[member], right[member]) for member in points),
        key=lambda standing: (-standing.points, -standing.correct, standing.member_id),
    )
    hardest, share = None, 1.0
    for position in range(questions):
        outcomes = per_question.get(position)
        if not outcomes:
            continue
        rate = sum(outcomes) / len(outcomes)
        if hardest is None or rate < share:
            hardest, share = position, rate
    average = sum(points.values()) / len(points) if points else 0.0
    return RoundResult(len(points), tuple(standings[:top]), hardest, share, average)


# -- mastery


@dataclass(frozen=True, slots=True)
class TopicRecord:
    answered: int = 0
    correct: int = 0

    @property
    def mastered(self) -> bool:
        return self.answered >= MASTERY_ANSWERS and self.correct >= MASTERY_SHARE * self.answered


@dataclass
class TopicBook:
    """A member's answers per topic: what they know well and what to practise."""

    records: dict[str, TopicRecord] = field(default_factory=dict)

    def record(self, topic: str, correct: bool) -> None:
        before = self.records.get(topic, TopicRecord())
        self.records[topic] = TopicRecord(before.answered + 1, before.correct + correct)

    def mastered(self) -> set[str]:
        return {topic for topic, record in self.records.items() if record.mastered}

    def to_practise(self, topics: Iterable[str]) -> list[str]:
        """Topics of the bank not yet mastered, least practised first."""
        mastered = self.mastered()
        return sorted(
            (topic for topic in set(topics) if topic not in mastered),
            key=lambda topic: (self.records.get(topic, TopicRecord()).answered, topic),
        )
