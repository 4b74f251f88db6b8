"""The onboarding questionnaire: questions with button answers, kept as member tags.

A member's answer to a question is a tag ``<question key>:<option slug>`` (``city:shanghai``,
``interest:track-day``): segments, lists, exports and nudges read answers as they read any
other tag, and erasing a member's tags erases their answers. A community that never changed
its questions asks ``DEFAULT_QUESTIONS``, written for a car owners' club.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hearth.domain.errors import HearthError
from hearth.domain.rfm import MAX_TAG_LENGTH, tag_slug

# A key travels in button data: plain ASCII, short. Options are picked by position.
QUESTION_KEY = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?")
MAX_QUESTIONS = 8
MAX_OPTIONS = 12
MAX_PROMPT_LENGTH = 200
MAX_LABEL_LENGTH = 40
SEPARATOR = ":"


@dataclass(frozen=True, slots=True)
class ProfileOption:
    """One button answer: what it says and the slug its tag carries."""

    slug: str
    label: str


@dataclass(frozen=True, slots=True)
class ProfileQuestion:
    """A question of the questionnaire; ``multiple`` lets a member pick several options."""

    key: str
    prompt: str
    options: tuple[ProfileOption, ...]
    multiple: bool = False

    def option(self, position: int) -> ProfileOption | None:
        """The option at ``position`` (from a button), or None when there is none."""
        return self.options[position] if 0 <= position < len(self.options) else None

    def tag(self, option: ProfileOption) -> str:
        return answer_tag(self.key, option.slug)


class NoSuchAnswer(HearthError):
    """A button names a question or an option that is no longer asked (old or forged)."""


class BadQuestion(HearthError):
    """An operator's question or option cannot be used; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # key | prompt | label | too_many | duplicate | unknown


def answer_tag(key: str, slug: str) -> str:
    """The tag that records an answer: ``<key>:<slug>``."""
    return f"{key}{SEPARATOR}{slug}"


def parse_answer_tag(tag: str) -> tuple[str, str] | None:
    """(question key, option slug) of an answer tag, or None for any other tag."""
    key, separator, slug = tag.partition(SEPARATOR)
    if not separator or not QUESTION_KEY.fullmatch(key) or tag_slug(slug) != slug:
        return None
    if len(tag) > MAX_TAG_LENGTH:
        return None
    return key, slug


def is_answer_tag(tag: str) -> bool:
    return parse_answer_tag(tag) is not None


def tag_named(text: str) -> str | None:
    """The tag an operator means by ``text``: an answer tag as written (``City:Shanghai`` →
    ``city:shanghai``), any other word as its slug; None when nothing is left."""
    key, separator, option = text.strip().casefold().partition(SEPARATOR)
    if separator and QUESTION_KEY.fullmatch(key):
        slug = tag_slug(option)
        if slug is not None and is_answer_tag(answer_tag(key, slug)):
            return answer_tag(key, slug)
    return tag_slug(text)


def question_key(text: str) -> str:
    """A new question's key as typed (lowercased); raises BadQuestion("key") unless it is
    1–12 letters a–z, digits or inner hyphens."""
    key = text.strip().casefold()
    if not QUESTION_KEY.fullmatch(key):
        raise BadQuestion("key")
    return key


def option_slug(label: str, key: str) -> str:
    """The slug of an option's label, cut so that ``<key>:<slug>`` fits a tag; raises
    BadQuestion("label") for a label without letters or digits."""
    slug = tag_slug(label)
    room = MAX_TAG_LENGTH - len(key) - len(SEPARATOR)
    slug = slug[:room].rstrip("-") if slug is not None else None
    if not slug:
        raise BadQuestion("label")
    return slug


def new_question(
    existing: Sequence[ProfileQuestion], key: str, prompt: str, *, multiple: bool
) -> ProfileQuestion:
    """A question to add after ``existing`` (without options yet); raises BadQuestion."""
    key = question_key(key)
    prompt = " ".join(prompt.split())
    if not prompt or len(prompt) > MAX_PROMPT_LENGTH:
        raise BadQuestion("prompt")
    if any(question.key == key for question in existing):
        raise BadQuestion("duplicate")
    if len(existing) >= MAX_QUESTIONS:
        raise BadQuestion("too_many")
    return ProfileQuestion(key, prompt, (), multiple)


def with_option(question: ProfileQuestion, label: str) -> ProfileQuestion:
    """``question`` with one more option labelled ``label``; raises BadQuestion."""
    label = " ".join(label.split())
    if not label or len(label) > MAX_LABEL_LENGTH:
        raise BadQuestion("label")
    slug = option_slug(label, question.key)
    if any(option.slug == slug for option in question.options):
        raise BadQuestion("duplicate")
    if len(question.options) >= MAX_OPTIONS:
        raise BadQuestion("too_many")
    return ProfileQuestion(
        question.key,
        question.prompt,
        (*question.options, ProfileOption(slug, label)),
        question.multiple,
    )


def without_option(question: ProfileQuestion, label: str) -> ProfileQuestion:
    """``question`` without the option named by its label or slug; raises BadQuestion."""
    wanted = tag_slug(label)
    kept = tuple(
        option for option in question.options if wanted not in (option.slug, tag_slug(option.label))
    )
    if len(kept) == len(question.options):
        raise BadQuestion("unknown")
    return ProfileQuestion(question.key, question.prompt, kept, question.multiple)


def chosen(question: ProfileQuestion, tags: Iterable[str]) -> list[ProfileOption]:
    """The options of ``question`` the member's tags hold, in the question's order."""
    picked = {
        parsed[1]
        for parsed in map(parse_answer_tag, tags)
        if parsed is not None and parsed[0] == question.key
    }
    return [option for option in question.options if option.slug in picked]


@dataclass(frozen=True, slots=True)
class AnswerChange:
    """The tags to put on and take off for one tap on an option."""

    add: tuple[str, ...]
    remove: tuple[str, ...]


def tap(question: ProfileQuestion, option: ProfileOption, tags: Iterable[str]) -> AnswerChange:
    """What tapping ``option`` does: a single answer replaces the member's earlier one (a
    tap on it again keeps it); a multiple one toggles the option."""
    tag = question.tag(option)
    own = [
        each
        for each in tags
        if (parsed := parse_answer_tag(each)) is not None and parsed[0] == question.key
    ]
    if question.multiple:
        return AnswerChange((), (tag,)) if tag in own else AnswerChange((tag,), ())
    return AnswerChange(() if tag in own else (tag,), tuple(each for each in own if each != tag))


def next_question(
    questions: Sequence[ProfileQuestion], after: str | None
) -> ProfileQuestion | None:
    """The question after the one keyed ``after`` (the first for None); None at the end or
    when ``after`` is no longer asked."""
    if after is None:
        return questions[0] if questions else None
    keys = [question.key for question in questions]
    if after not in keys:
        return None
    position = keys.index(after) + 1
    return questions[position] if position < len(questions) else None


def answered_values(tags: Iterable[str]) -> list[str]:
    """The option slugs of a member's answer tags (``interest:track-day`` → ``track-day``),
    for matching answers against other tags (an event's type)."""
    return [parsed[1] for parsed in map(parse_answer_tag, tags) if parsed is not None]


def _question(
    key: str, prompt: str, labels: Sequence[str], *, multiple: bool = False
) -> ProfileQuestion:
    options = tuple(ProfileOption(option_slug(label, key), label) for label in labels)
    return ProfileQuestion(key, prompt, options, multiple)


# The English texts are msgids: the handlers show them translated (profile_texts).
DEFAULT_QUESTIONS: tuple[ProfileQuestion, ...] = (
    _question(
        "model",
        "Which car do you drive?",
        ("Sedan", "SUV", "Coupe", "Estate", "Electric", "Not yet"),
    ),
    _question(
        "city",
        "Where do you live?",
        ("Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Hangzhou", "Elsewhere"),
    ),
    _question(
        "owner-years",
        "How long have you owned it?",
        ("Less than a year", "1-3 years", "3-5 years", "More than 5 years"),
    ),
    _question(
        "interest",
        "What are you into?",
        ("Road trip", "Track day", "Maintenance", "Photography", "Family outing"),
        multiple=True,
    ),
)
