"""Greetings: birthdays as members write them, and which days call for a greeting."""

from __future__ import annotations

from datetime import date

import pytest

from hearth.domain.greetings import (
    Birthday,
    Greeting,
    InvalidBirthday,
    Occasion,
    greeting_key,
    occasions_on,
    parse_birthday,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12-24", Birthday(12, 24)), ("2/29", Birthday(2, 29)), ("12月24日", Birthday(12, 24))],
)
def test_birthdays_are_month_and_day(text: str, expected: Birthday) -> None:
    assert parse_birthday(text) == expected


@pytest.mark.parametrize("text", ["", "24-12-1990", "13-01", "02-30", "tomorrow"])
def test_a_bad_birthday_is_refused(text: str) -> None:
    with pytest.raises(InvalidBirthday):
        parse_birthday(text)


def test_anniversaries_from_the_first_year_and_birthdays_on_their_day() -> None:
    joined = date(2024, 3, 2)
    assert occasions_on(date(2024, 3, 2), joined_on=joined, birthday=None) == []
    assert occasions_on(date(2026, 3, 2), joined_on=joined, birthday=Birthday(3, 2)) == [
        Greeting(Occasion.ANNIVERSARY, years=2),
        Greeting(Occasion.BIRTHDAY),
    ]
    assert occasions_on(date(2026, 3, 3), joined_on=joined, birthday=Birthday(3, 2)) == []


def test_the_29th_of_february_is_celebrated_on_the_28th_in_other_years() -> None:
    leap = Birthday(2, 29)
    assert occasions_on(date(2027, 2, 28), joined_on=None, birthday=leap)
    assert not occasions_on(date(2028, 2, 28), joined_on=None, birthday=leap)
    assert occasions_on(date(2028, 2, 29), joined_on=None, birthday=leap)


def test_a_member_of_two_communities_gets_one_birthday_greeting_but_two_anniversaries() -> None:
    birthday = {greeting_key(Occasion.BIRTHDAY, group, 101, 2026) for group in (-1, -2)}
    anniversary = {greeting_key(Occasion.ANNIVERSARY, group, 101, 2026) for group in (-1, -2)}
    assert len(birthday) == 1
    assert len(anniversary) == 2
