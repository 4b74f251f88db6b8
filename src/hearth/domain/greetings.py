"""Greetings: a member's join anniversary and birthday, at a civil hour, once a year each."""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from hearth.domain.errors import HearthError
from hearth.domain.members import MemberProfile

FIRST_GREETING_HOUR = 10  # local time: greetings go out from late morning…
LAST_GREETING_HOUR = 20  # …until this hour, so a job missed at 10:00 still greets that day


class Occasion(enum.StrEnum):
    ANNIVERSARY = "anniversary"
    BIRTHDAY = "birthday"


@dataclass(frozen=True, slots=True)
class Greeting:
    occasion: Occasion
    years: int = 0  # for an anniversary: how many years since the member joined


@dataclass(frozen=True, slots=True)
class Birthday:
    month: int
    day: int

    def spec(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"

    @classmethod
    def from_spec(cls, spec: str) -> Birthday:
        month, day = spec.split("-")
        return cls(int(month), int(day))


@dataclass(frozen=True, slots=True)
class GreetingCandidate:
    """A member who opted in to greetings in a community, and can be written to."""

    member: MemberProfile
    joined_at: datetime | None  # None when Hearth found them there and never saw them join
    birthday: Birthday | None


class InvalidBirthday(HearthError):
    """Not a month and day (MM-DD)."""


_BIRTHDAY = re.compile(r"(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号號]?")


def parse_birthday(text: str) -> Birthday:
    """``12-24``, ``12/24``, ``12月24日`` (month first; no year: Hearth never asks for one)."""
    normalised = unicodedata.normalize("NFKC", text).strip()
    match = _BIRTHDAY.fullmatch(normalised)
    if match is None:
        raise InvalidBirthday(text)
    month, day = int(match.group(1)), int(match.group(2))
    try:
        date(2024, month, day)  # a leap year: 02-29 is a birthday too
    except ValueError:
        raise InvalidBirthday(text) from None
    return Birthday(month, day)


def is_greeting_hour(local_hour: int) -> bool:
    return FIRST_GREETING_HOUR <= local_hour <= LAST_GREETING_HOUR


def _falls_on(month: int, day: int, today: date) -> bool:
    """Whether a yearly date falls on ``today``; 29 February is kept on the 28th otherwise."""
    if (month, day) == (2, 29) and not _is_leap(today.year):
        return (today.month, today.day) == (2, 28)
    return (today.month, today.day) == (month, day)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def occasions_on(
    today: date, *, joined_on: date | None, birthday: Birthday | None
) -> list[Greeting]:
    """The greetings a member is due on a local day: anniversaries from the first year on."""
    due: list[Greeting] = []
    anniversary = joined_on is not None and today.year > joined_on.year
    if anniversary and joined_on and _falls_on(joined_on.month, joined_on.day, today):
        due.append(Greeting(Occasion.ANNIVERSARY, years=today.year - joined_on.year))
    if birthday is not None and _falls_on(birthday.month, birthday.day, today):
        due.append(Greeting(Occasion.BIRTHDAY))
    return due


def greeting_key(occasion: Occasion, community_id: int, member_id: int, year: int) -> str:
    """The outbox dedupe key: one anniversary per community and year; one birthday
    greeting per year, whichever of the member's communities sends it first."""
    if occasion is Occasion.BIRTHDAY:
        return f"greeting:birthday:{member_id}:{year}"
    return f"greeting:{occasion.value}:{community_id}:{member_id}:{year}"
