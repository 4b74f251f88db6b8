"""Owner car profiles: what a member may type, the questionnaire tags a car gives, and when
the next service is due — dates computed by hand in the comments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from fractions import Fraction

import pytest

from hearth.domain.cars import (
    DEFAULT_INTERVAL,
    BadCarInput,
    BadServiceSetting,
    CarField,
    CarProfile,
    DueBy,
    Reading,
    ServiceDue,
    ServiceInterval,
    ServiceSettings,
    add_months,
    can_snooze,
    km_per_day,
    model_tag,
    next_service,
    owner_years_tag,
    parse_booking_url,
    parse_day,
    parse_km,
    parse_mileage,
    parse_model,
    parse_months,
    parse_year,
    reminder_key,
    reminder_round,
    reminder_times,
    snoozed,
    with_mileage,
    with_model_interval,
    with_service,
)
from hearth.domain.nudges import QuietHours

TODAY = date(2026, 3, 2)


def car(**facts: object) -> CarProfile:
    return CarProfile(community_id=-100, member_id=1, **facts)  # type: ignore[arg-type]


# -- what the member types


def test_a_model_keeps_its_words_and_tidies_the_spaces() -> None:
    assert parse_model("  Model   Y ") == "Model Y"
    assert parse_model("比亚迪 汉") == "比亚迪 汉"


@pytest.mark.parametrize("typed", ["", "   ", "!!!", "x" * 41])
def test_a_model_without_letters_or_too_long_is_refused(typed: str) -> None:
    with pytest.raises(BadCarInput) as refused:
        parse_model(typed)
    assert (refused.value.field, refused.value.reason) == (CarField.MODEL, "format")


def test_a_model_year_is_four_digits_from_1950_to_next_year() -> None:
    assert parse_year("1950", TODAY) == 1950
    assert parse_year(" 2027 ", TODAY) == 2027
    for typed, reason in (
        ("1949", "range"),
        ("2028", "range"),
        ("21", "format"),
        ("2k21", "format"),
    ):
        with pytest.raises(BadCarInput) as refused:
            parse_year(typed, TODAY)
        assert refused.value.reason == reason


def test_a_day_is_written_yyyy_mm_dd_and_is_not_in_the_future() -> None:
    assert parse_day("2026-03-02", TODAY, CarField.SERVICED) == TODAY
    cases = {
        "2026-03-03": "future",
        "2026-02-30": "format",
        "02/03/2026": "format",
        "1949-12-31": "early",
    }
    for typed, reason in cases.items():
        with pytest.raises(BadCarInput) as refused:
            parse_day(typed, TODAY, CarField.PURCHASED)
        assert (refused.value.field, refused.value.reason) == (CarField.PURCHASED, reason)


def test_a_mileage_is_whole_kilometres_with_or_without_separators() -> None:
    assert parse_mileage("23500", CarField.MILEAGE) == 23_500
    assert parse_mileage("23,500", CarField.MILEAGE) == 23_500
    assert parse_mileage("23 500 km", CarField.MILEAGE) == 23_500
    assert parse_mileage("0", CarField.MILEAGE) == 0
    assert parse_mileage("2000000", CarField.MILEAGE) == 2_000_000
    for typed, reason in (
        ("2000001", "range"),
        ("-5", "format"),
        ("12.5", "format"),
        ("", "format"),
    ):
        with pytest.raises(BadCarInput) as refused:
            parse_mileage(typed, CarField.SERVICE_MILEAGE)
        assert (refused.value.field, refused.value.reason) == (CarField.SERVICE_MILEAGE, reason)


# -- the questionnaire's tags


def test_a_model_is_the_questionnaires_model_answer() -> None:
    assert model_tag("Model Y") == "model:model-y"
    assert model_tag("SUV") == "model:suv"  # the questionnaire's own option


def test_the_purchase_day_gives_the_questionnaires_ownership_bucket() -> None:
    assert owner_years_tag(date(2025, 6, 1), TODAY) == "owner-years:less-than-a-year"
    assert owner_years_tag(date(2023, 3, 3), TODAY) == "owner-years:1-3-years"  # 2 years
    assert owner_years_tag(date(2023, 3, 2), TODAY) == "owner-years:3-5-years"  # 3 today
    assert owner_years_tag(date(2020, 2, 29), date(2025, 2, 28)) == "owner-years:more-than-5-years"


# -- the pace and the due day


def test_months_are_added_to_the_same_day_or_the_months_last() -> None:
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)


def test_a_service_day_alone_is_due_by_distance_at_40_km_a_day() -> None:
    due = next_service(car(serviced_on=date(2025, 3, 1)), DEFAULT_INTERVAL)

    # time: 2025-03-01 + 12 months; distance: 10,000 km / 40 km a day = 250 days after
    # 1 March: 30 to 31 March, then April 30, May 31, June 30, July 31, August 31,
    # September 30, October 31 (244) and 6 more: 6 November.
    assert due == ServiceDue(
        date(2025, 11, 6), date(2026, 3, 1), date(2025, 11, 6), Fraction(40), DEFAULT_INTERVAL
    )
    assert due.by is DueBy.DISTANCE


def test_the_pace_between_two_readings_and_the_service_mileage_count() -> None:
    profile = car(
        previous_mileage=Reading(20_000, date(2025, 1, 1)),
        mileage=Reading(21_500, date(2025, 3, 2)),  # 60 days later: 25 km a day
        serviced_on=date(2024, 11, 1),
        service_km=18_000,
    )

    due = next_service(profile, DEFAULT_INTERVAL)

    # 3,500 km since the service on 2 March leave 6,500: 260 days → 17 November; the
    # 12 months end on 1 November first.
    assert km_per_day(profile) == 25
    assert due is not None
    assert (due.on, due.by_time, due.by_distance, due.by) == (
        date(2025, 11, 1),
        date(2025, 11, 1),
        date(2025, 11, 17),
        DueBy.TIME,
    )


def test_the_pace_of_a_car_bought_new_is_its_mileage_over_the_days_owned() -> None:
    profile = car(
        purchased_on=date(2024, 1, 10),
        mileage=Reading(12_000, date(2025, 1, 10)),  # 366 days (2024 is a leap year)
        serviced_on=date(2024, 12, 1),
    )

    due = next_service(profile, DEFAULT_INTERVAL)

    # 12,000 / 366 km a day; 10,000 km take exactly 305 days from 1 December 2024:
    # 30 to the end of December, then 31+28+31+30+31+30+31+31+30 (303 at 30 September),
    # 2 more: 2 October 2025 — before the 12 months (1 December 2025).
    assert km_per_day(profile) == Fraction(12_000, 366)
    assert due is not None
    assert due.on == date(2025, 10, 2)


def test_a_mileage_alone_is_due_at_the_next_10000_km_mark() -> None:
    due = next_service(car(mileage=Reading(37_000, TODAY)), DEFAULT_INTERVAL)

    # 3,000 km to 40,000 at 40 km a day: 75 days after 2 March → 16 May; no time limit.
    assert due is not None
    assert (due.on, due.by_time) == (date(2026, 5, 16), None)


def test_a_used_cars_odometer_is_not_taken_for_a_pace() -> None:
    used = car(purchased_on=date(2026, 2, 1), mileage=Reading(80_000, date(2026, 3, 1)))

    assert km_per_day(used) == 40  # 80,000 km in 28 days is no one's driving


def test_a_models_own_interval_wins_over_the_communitys() -> None:
    settings = with_model_interval(ServiceSettings(), "Model Y", ServiceInterval(6, 15_000))

    interval = settings.interval_for("model-y")
    due = next_service(car(serviced_on=date(2025, 3, 1)), interval)

    # 15,000 km at 40 a day is 375 days; 6 months end on 1 September 2025 first.
    assert interval == ServiceInterval(6, 15_000)
    assert settings.interval_for("sedan") == DEFAULT_INTERVAL
    assert due is not None
    assert (due.on, due.by) == (date(2025, 9, 1), DueBy.TIME)


def test_nothing_is_due_without_a_service_day_or_a_mileage() -> None:
    assert next_service(car(purchased_on=date(2024, 1, 1), model="Golf"), DEFAULT_INTERVAL) is None


def test_a_lower_reading_is_a_correction_and_the_pace_starts_afresh() -> None:
    first = with_mileage(car(), 20_000, date(2026, 1, 1))
    second = with_mileage(first, 21_000, date(2026, 2, 1))
    corrected = with_mileage(second, 2_100, date(2026, 2, 2))

    assert second.previous_mileage == Reading(20_000, date(2026, 1, 1))
    assert corrected.previous_mileage is None
    assert corrected.mileage == Reading(2_100, date(2026, 2, 2))


# -- reminding


def test_a_reminder_is_owed_once_per_due_day_and_again_after_a_snooze() -> None:
    profile = car(serviced_on=date(2025, 3, 1))
    due = next_service(profile, DEFAULT_INTERVAL)  # 6 November 2025
    assert due is not None

    assert reminder_round(profile, due, date(2025, 11, 5)) is None  # not yet
    assert reminder_round(profile, due, date(2025, 11, 6)) == 0
    reminded = replace(profile, reminded_due=due.on)
    assert reminder_round(reminded, due, date(2025, 11, 7)) is None  # sent already
    later = snoozed(reminded, date(2025, 11, 7))
    assert later.snoozed_until == date(2025, 11, 21)
    assert reminder_round(later, due, date(2025, 11, 20)) is None
    assert reminder_round(later, due, date(2025, 11, 21)) == 1
    assert reminder_key(-100, 1, due.on, 0) == "service-due:-100:1:2025-11-06"
    assert reminder_key(-100, 1, due.on, 1) == "service-due:-100:1:2025-11-06:1"


def test_reminders_turned_off_are_owed_no_more_and_three_snoozes_are_the_most() -> None:
    profile = car(serviced_on=date(2025, 3, 1), reminders_on=False)
    due = next_service(profile, DEFAULT_INTERVAL)

    assert reminder_round(profile, due, TODAY) is None
    assert can_snooze(car(snoozes=2))
    assert not can_snooze(car(snoozes=3))


def test_a_new_service_day_starts_the_snoozes_afresh() -> None:
    profile = car(serviced_on=date(2025, 3, 1), service_km=9_000, snoozes=3)
    profile = snoozed(profile, TODAY)

    serviced = with_service(profile, date(2026, 3, 1))

    assert (serviced.snoozes, serviced.snoozed_until, serviced.service_km) == (0, None, None)


def test_a_reminder_goes_out_at_half_past_ten_local_outside_the_quiet_hours() -> None:
    # 09:00 in Shanghai (01:00 UTC): this morning at 10:30 (02:30 UTC), until 21:00.
    morning = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert reminder_times(morning, "Asia/Shanghai", QuietHours()) == (
        date(2026, 3, 2),
        datetime(2026, 3, 2, 2, 30, tzinfo=UTC),
        datetime(2026, 3, 2, 13, 0, tzinfo=UTC),
    )
    # 23:00 in Shanghai: tomorrow morning.
    night = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert reminder_times(night, "Asia/Shanghai", QuietHours())[:2] == (  # type: ignore[index]
        date(2026, 3, 3),
        datetime(2026, 3, 3, 2, 30, tzinfo=UTC),
    )
    # quiet until noon: half past twelve.
    late_riser = reminder_times(morning, "Asia/Shanghai", QuietHours(22, 12))
    assert late_riser is not None
    assert late_riser[1] == datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


# -- operators' settings


def test_operators_settings_are_checked() -> None:
    assert parse_months("12") == 12
    assert parse_km("10,000") == 10_000
    assert parse_booking_url("https://dealer.example/book?x=1") == "https://dealer.example/book?x=1"
    assert parse_booking_url("off") is None
    for parse, typed in (
        (parse_months, "0"),
        (parse_months, "61"),
        (parse_km, "100"),
        (parse_km, "many"),
        (parse_booking_url, "http://dealer.example"),
        (parse_booking_url, "javascript:alert(1)"),
        (parse_booking_url, "https://"),
    ):
        with pytest.raises(BadServiceSetting):
            parse(typed)
