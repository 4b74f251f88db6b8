"""The pure rules of events: RSVPs and the waitlist, windows, codes, NPS, the dialog's parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from hearth.domain.events import (
    CODE_ALPHABET,
    Answer,
    Event,
    EventProblem,
    EventStatus,
    InvalidEventInput,
    RsvpCounts,
    RsvpStatus,
    attendance_payload,
    checkin_window,
    feedback_due,
    new_code,
    normalise_code,
    nps,
    parse_attendance_payload,
    parse_capacity,
    parse_edit,
    parse_end,
    parse_when,
    registration_problem,
    reminder_due,
    seats_to_fill,
    transition,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai


def event(**changes: object) -> Event:
    values: dict[str, object] = {
        "id": 1,
        "community_id": -100,
        "title": "Drive",
        "description": "",
        "place": "Lake",
        "starts_at": START,
        "ends_at": START + timedelta(hours=3),
        "capacity": 2,
        "registration_deadline": START - timedelta(hours=12),
        "points": 20,
        "photo": None,
        "code": "K7M3QX",
        "status": EventStatus.SCHEDULED,
        "card_message_id": 5,
    }
    values.update(changes)
    return Event(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("previous", "answer", "going", "expected", "frees"),
    [
        (None, Answer.GOING, 1, RsvpStatus.GOING, False),
        (None, Answer.GOING, 2, RsvpStatus.WAITLISTED, False),
        (RsvpStatus.MAYBE, Answer.GOING, 2, RsvpStatus.WAITLISTED, False),
        (RsvpStatus.WAITLISTED, Answer.GOING, 1, RsvpStatus.WAITLISTED, False),
        (RsvpStatus.GOING, Answer.NOT_GOING, 2, RsvpStatus.NOT_GOING, True),
        (RsvpStatus.GOING, Answer.MAYBE, 2, RsvpStatus.MAYBE, True),
        (RsvpStatus.WAITLISTED, Answer.MAYBE, 2, RsvpStatus.MAYBE, False),
    ],
)
def test_an_answer_moves_the_rsvp_and_a_going_member_stepping_back_frees_a_seat(
    previous: RsvpStatus | None, answer: Answer, going: int, expected: RsvpStatus, frees: bool
) -> None:
    step = transition(previous, answer, going=going, capacity=2)
    assert step.status is expected
    assert step.frees_seat is frees


def test_pressing_going_twice_keeps_the_place_and_no_limit_never_waitlists() -> None:
    assert not transition(RsvpStatus.GOING, Answer.GOING, going=5, capacity=2).changed
    assert transition(None, Answer.GOING, going=10_000, capacity=None).status is RsvpStatus.GOING


def test_waitlisted_members_fill_free_seats_only() -> None:
    assert seats_to_fill(RsvpCounts(going=1, waitlisted=3), 2) == 1
    assert seats_to_fill(RsvpCounts(going=3, waitlisted=3), 2) == 0
    assert seats_to_fill(RsvpCounts(going=3, waitlisted=3), None) == 3


def test_going_stops_at_the_deadline_but_stepping_back_is_possible_until_the_start() -> None:
    after_deadline = START - timedelta(hours=1)
    assert registration_problem(event(), Answer.GOING, NOW) is None
    assert registration_problem(event(), Answer.GOING, after_deadline) is (
        EventProblem.REGISTRATION_CLOSED
    )
    assert registration_problem(event(), Answer.NOT_GOING, after_deadline) is None
    assert registration_problem(event(), Answer.NOT_GOING, START) is EventProblem.STARTED
    cancelled = event(status=EventStatus.CANCELLED)
    assert registration_problem(cancelled, Answer.MAYBE, NOW) is EventProblem.CANCELLED


def test_only_the_closest_due_reminder_counts() -> None:
    assert reminder_due(START, START - timedelta(hours=30), (24, 1)) is None
    assert reminder_due(START, START - timedelta(hours=23), (24, 1)) == 24
    assert reminder_due(START, START - timedelta(minutes=30), (24, 1)) == 1
    assert reminder_due(START, START, (24, 1)) is None


def test_checkin_is_open_from_an_hour_before_to_three_hours_after_and_then_feedback() -> None:
    opens, closes = checkin_window(event())
    assert opens == START - timedelta(hours=1)
    assert closes == START + timedelta(hours=6)
    assert not feedback_due(event(), closes - timedelta(seconds=1))
    assert feedback_due(event(), closes)


def test_nps_is_promoters_minus_detractors_in_percent() -> None:
    assert nps([]) is None
    assert nps([10, 9, 8, 6]) == 25
    assert nps([0, 10]) == 0
    assert nps([3, 5]) == -100


def test_codes_come_from_the_unambiguous_alphabet_and_are_read_forgivingly() -> None:
    code = new_code(random.Random(7).choice)
    assert len(code) == 6
    assert set(code) <= set(CODE_ALPHABET)
    assert not set("0O1IL5S2Z") & set(CODE_ALPHABET)
    assert normalise_code(" k7m-3qx ") == "K7M3QX"
    assert normalise_code("K7M3Q0") is None
    assert normalise_code(None) is None
    assert parse_attendance_payload(attendance_payload("K7M3QX")) == "K7M3QX"
    assert parse_attendance_payload("c-100123") is None


def test_when_accepts_a_start_or_a_range_in_the_community_time_zone() -> None:
    zone = "Asia/Shanghai"
    assert parse_when("2026-03-10 14:00", zone, NOW) == (START, None)
    assert parse_when("2026-03-10 14:00-17:00", zone, NOW) == (START, START + timedelta(hours=3))
    assert parse_when("2026-03-10 22:00 - 2026-03-11 02:00", zone, NOW)[1] == datetime(
        2026, 3, 10, 18, 0, tzinfo=UTC
    )
    assert parse_end("17:00", START, zone) == START + timedelta(hours=3)
    for text, part in [
        ("2026-03-01 14:00", "past"),
        ("2026-03-10 14:00-13:00", "order"),
        ("tomorrow", "when"),
        ("2026-02-30 10:00", "when"),
        ("2026-03-10 14:00 - 2026-04-10 10:00", "too_long"),
        ("0001-01-01 00:00", "when"),  # before UTC's year 1 in Shanghai: no such instant
    ]:
        with pytest.raises(InvalidEventInput) as refused:
            parse_when(text, zone, NOW)
        assert refused.value.part == part


def test_capacity_is_a_number_or_no_limit() -> None:
    assert parse_capacity("30") == 30
    assert parse_capacity("No limit") is None
    for text in ("0", "lots", "-3", "３０"):
        with pytest.raises(InvalidEventInput):
            parse_capacity(text)


def test_a_new_time_keeps_the_length_and_pulls_the_deadline_along() -> None:
    changes = parse_edit("when", "2026-03-12 10:00", event(), "UTC", NOW)
    start = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
    assert changes["starts_at"] == start
    assert changes["ends_at"] == start + timedelta(hours=3)
    assert changes["registration_deadline"] == START - timedelta(hours=12)  # still before
    early = parse_edit("when", "2026-03-05 10:00", event(), "UTC", NOW)
    assert early["registration_deadline"] == datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    with pytest.raises(InvalidEventInput):
        parse_edit("colour", "red", event(), "UTC", NOW)
