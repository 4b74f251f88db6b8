"""Schedules: every form operators write, bad input, the instants they fall on, catch-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from hearth.domain.schedules import (
    LAST_DAY,
    MAX_SKIPPED_RECORDED,
    Frequency,
    InvalidSchedule,
    Schedule,
    ScheduleProblem,
    catch_up,
    first_run,
    next_run,
    parse_schedule,
    runs_between,
    schedule_from_spec,
)

TODAY = date(2026, 3, 2)  # a Monday
MON, THU, FRI = 0, 3, 4


def weekly(*days: int, at: time = time(9, 0)) -> Schedule:
    return Schedule(Frequency.WEEKLY, at, weekdays=frozenset(days))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # one-off
        ("2026-12-24 18:00", Schedule(Frequency.ONCE, time(18, 0), on_date=date(2026, 12, 24))),
        ("on 2026-12-24 at 6pm", Schedule(Frequency.ONCE, time(18, 0), date(2026, 12, 24))),
        ("2026/12/24 18:00", Schedule(Frequency.ONCE, time(18, 0), date(2026, 12, 24))),
        ("today 18:00", Schedule(Frequency.ONCE, time(18, 0), TODAY)),
        ("tomorrow 9am", Schedule(Frequency.ONCE, time(9, 0), date(2026, 3, 3))),
        ("2026年12月24日 18:00", Schedule(Frequency.ONCE, time(18, 0), date(2026, 12, 24))),
        ("12月24日 晚上8点", Schedule(Frequency.ONCE, time(20, 0), date(2026, 12, 24))),
        ("1月5日 10:00", Schedule(Frequency.ONCE, time(10, 0), date(2027, 1, 5))),  # next one
        ("明天 9点半", Schedule(Frequency.ONCE, time(9, 30), date(2026, 3, 3))),
        # daily
        ("every day 08:30", Schedule(Frequency.DAILY, time(8, 30))),
        ("Every day at 8:30", Schedule(Frequency.DAILY, time(8, 30))),
        ("daily 7:05pm", Schedule(Frequency.DAILY, time(19, 5))),
        ("每天 08:30", Schedule(Frequency.DAILY, time(8, 30))),
        ("每日 ０８：３０", Schedule(Frequency.DAILY, time(8, 30))),  # full-width digits
        # weekly
        ("every Monday 09:00", weekly(MON)),
        ("every mon, thu 09:00", weekly(MON, THU)),
        ("Mondays and Thursdays at 9am", weekly(MON, THU)),
        ("every weekday 09:00", weekly(0, 1, 2, 3, 4)),
        ("weekends 09:00", weekly(5, 6)),
        ("每周一 09:00", weekly(MON)),
        ("每星期五 09:00", weekly(FRI)),
        ("每周一、四 09:00", weekly(MON, THU)),
        ("周日 上午9点", weekly(6)),
        ("工作日 9:00", weekly(0, 1, 2, 3, 4)),
        # monthly
        ("first day of the month 10:30", Schedule(Frequency.MONTHLY, time(10, 30), day_of_month=1)),
        (
            "last day of the month 18:00",
            Schedule(Frequency.MONTHLY, time(18), day_of_month=LAST_DAY),
        ),
        ("every month on the 15th 12:00", Schedule(Frequency.MONTHLY, time(12), day_of_month=15)),
        ("monthly 31 12:00", Schedule(Frequency.MONTHLY, time(12), day_of_month=31)),
        ("每月1日 10:30", Schedule(Frequency.MONTHLY, time(10, 30), day_of_month=1)),
        ("每个月15号 下午3点", Schedule(Frequency.MONTHLY, time(15), day_of_month=15)),
        ("每月最后一天 18:00", Schedule(Frequency.MONTHLY, time(18), day_of_month=LAST_DAY)),
    ],
)
def test_every_written_form_is_understood(text: str, expected: Schedule) -> None:
    parsed = parse_schedule(text, today=TODAY)
    assert parsed == expected
    assert schedule_from_spec(parsed.spec()) == parsed  # stored and read back unchanged


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", ScheduleProblem.EMPTY),
        ("   ", ScheduleProblem.EMPTY),
        ("every day", ScheduleProblem.NO_TIME),
        ("every Monday", ScheduleProblem.NO_TIME),
        ("09:00", ScheduleProblem.UNKNOWN_DAYS),
        ("every funday 09:00", ScheduleProblem.UNKNOWN_DAYS),
        ("every month 09:00", ScheduleProblem.UNKNOWN_DAYS),
        ("2026-12-24 18:00 and mondays", ScheduleProblem.UNKNOWN_DAYS),
        ("every day 25:00", ScheduleProblem.BAD_TIME),
        ("every day 9:75", ScheduleProblem.BAD_TIME),
        ("every day 13pm", ScheduleProblem.BAD_TIME),
        ("2026-02-30 10:00", ScheduleProblem.BAD_DATE),
        ("2月30日 10:00", ScheduleProblem.BAD_DATE),
        ("monthly 32 10:00", ScheduleProblem.BAD_DAY_OF_MONTH),
        ("every month on the 0th 10:00", ScheduleProblem.BAD_DAY_OF_MONTH),
    ],
)
def test_bad_schedules_are_refused_with_the_reason(text: str, problem: ScheduleProblem) -> None:
    with pytest.raises(InvalidSchedule) as refused:
        parse_schedule(text, today=TODAY)
    assert refused.value.problem is problem


def test_a_one_off_in_the_past_is_refused_and_a_future_one_runs_once() -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    past = parse_schedule("2026-03-02 09:00", today=TODAY)
    with pytest.raises(InvalidSchedule) as refused:
        first_run(past, now, "UTC")
    assert refused.value.problem is ScheduleProblem.IN_THE_PAST
    future = parse_schedule("2026-03-02 19:00", today=TODAY)  # 11:00 UTC in Shanghai
    assert first_run(future, now, "Asia/Shanghai") == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert next_run(future, datetime(2026, 3, 2, 11, 0, tzinfo=UTC), "Asia/Shanghai") is None


def test_runs_fall_on_local_wall_time() -> None:
    monday_nine = weekly(MON)
    after = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai: just missed
    assert next_run(monday_nine, after, "Asia/Shanghai") == datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
    assert next_run(monday_nine, after, "UTC") == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_monthly_days_past_a_short_month_run_on_its_last_day() -> None:
    thirty_first = Schedule(Frequency.MONTHLY, time(12), day_of_month=31)
    runs = runs_between(
        thirty_first,
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 5, 1, tzinfo=UTC),
        "UTC",
    )
    assert [run.date() for run in runs] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    last = Schedule(Frequency.MONTHLY, time(12), day_of_month=LAST_DAY)
    after = datetime(2028, 2, 1, tzinfo=UTC)
    assert next_run(last, after, "UTC") == datetime(2028, 2, 29, 12, tzinfo=UTC)


def test_daylight_saving_days_still_run_exactly_once() -> None:
    # Europe/Berlin: 2026-03-29 02:00 → 03:00, 2026-10-25 03:00 → 02:00.
    gap = Schedule(Frequency.DAILY, time(2, 30))
    spring = runs_between(
        gap, datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC), "Europe/Berlin"
    )
    assert len(spring) == 3
    assert spring[1] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 summer time
    autumn = runs_between(
        gap, datetime(2026, 10, 24, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC), "Europe/Berlin"
    )
    assert len(autumn) == 3  # 02:30 happens twice that night: the first one only


DAILY_NINE = Schedule(Frequency.DAILY, time(9, 0))
NINE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_nothing_due_means_nothing_to_run_or_skip() -> None:
    decision = catch_up(DAILY_NINE, "UTC", since=NINE, now=NINE + 5 * HOUR, grace=HOUR)
    assert decision.run is None
    assert decision.skipped == ()


def test_a_run_missed_within_the_grace_period_runs_late() -> None:
    decision = catch_up(
        DAILY_NINE, "UTC", since=NINE - 2 * HOUR, now=NINE + 40 * HOUR / 60, grace=HOUR
    )
    assert decision.run == NINE
    assert decision.skipped == ()


def test_a_run_missed_for_longer_than_the_grace_period_is_skipped() -> None:
    decision = catch_up(DAILY_NINE, "UTC", since=NINE - 2 * HOUR, now=NINE + 2 * HOUR, grace=HOUR)
    assert decision.run is None
    assert decision.skipped == (NINE,)


def test_a_long_outage_runs_at_most_the_latest_and_skips_the_rest() -> None:
    since = NINE - timedelta(days=3) - HOUR
    decision = catch_up(DAILY_NINE, "UTC", since=since, now=NINE + HOUR / 2, grace=HOUR)
    assert decision.run == NINE
    assert decision.skipped == tuple(NINE - timedelta(days=d) for d in (3, 2, 1))


def test_an_outage_of_years_records_a_bounded_number_of_skips() -> None:
    decision = catch_up(
        DAILY_NINE, "UTC", since=NINE - timedelta(days=2000), now=NINE + 3 * HOUR, grace=HOUR
    )
    assert decision.run is None
    assert len(decision.skipped) == MAX_SKIPPED_RECORDED
    assert decision.skipped[-1] == NINE


def test_the_instant_handled_last_is_never_decided_again() -> None:
    decision = catch_up(DAILY_NINE, "UTC", since=NINE, now=NINE + HOUR / 2, grace=HOUR)
    assert decision.run is None
    assert decision.skipped == ()
