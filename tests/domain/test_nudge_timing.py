"""Nudge timing: a nudge's deadline in the outbox, and the gap between two nudges counted in
local calendar days across every community the member belongs to."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hearth.domain.nudges import (
    DEFAULT_QUIET_HOURS,
    LATE_GRACE,
    Candidate,
    Contact,
    QuietHours,
    SkipReason,
    left_out_reason,
    send_deadline,
)
from tests.domain.test_nudges import NO_QUIET, SHANGHAI, TODAY, candidate, contact

NEW_YORK = "America/New_York"


def at(day: date, hour: int, minute: int = 0, timezone: str = SHANGHAI) -> datetime:
    """A local time in ``timezone``, as UTC."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


# -- the deadline


def test_a_nudge_due_late_in_the_evening_must_go_before_the_quiet_hours_begin() -> None:
    due = at(TODAY, 20, 30)
    deadline = send_deadline(due, at(TODAY, 20, 35), timezone=SHANGHAI, quiet=DEFAULT_QUIET_HOURS)
    assert deadline == at(TODAY, 21)  # 21:00, not 22:30


def test_a_nudge_due_in_the_morning_may_go_within_the_late_grace() -> None:
    due = at(TODAY, 10, 30)
    deadline = send_deadline(due, at(TODAY, 10, 35), timezone=SHANGHAI, quiet=DEFAULT_QUIET_HOURS)
    assert deadline == due + LATE_GRACE


def test_without_quiet_hours_only_the_late_grace_limits_a_nudge() -> None:
    due = at(TODAY, 20, 30)
    assert send_deadline(due, due, timezone=SHANGHAI, quiet=NO_QUIET) == due + LATE_GRACE


def test_quiet_hours_that_begin_after_midnight_are_the_next_days() -> None:
    early_sleeper = QuietHours(1, 7)
    due = at(TODAY, 23, 30)
    deadline = send_deadline(due, at(TODAY, 23, 40), timezone=SHANGHAI, quiet=early_sleeper)
    assert deadline == at(TODAY + timedelta(days=1), 1)


def test_quiet_hours_begin_in_the_members_community_time_zone() -> None:
    due = at(TODAY, 20, 30, NEW_YORK)
    deadline = send_deadline(due, due, timezone=NEW_YORK, quiet=DEFAULT_QUIET_HOURS)
    assert deadline == at(TODAY, 21, 0, NEW_YORK)


def test_quiet_hours_already_begun_leave_no_time_at_all() -> None:
    now = at(TODAY, 21, 10)
    assert DEFAULT_QUIET_HOURS.next_start(now, SHANGHAI) == now
    assert NO_QUIET.next_start(now, SHANGHAI) is None


# -- the gap, across communities, in local calendar days


def contacted(*moments: datetime, here: tuple[Contact, ...] = ()) -> Candidate:
    """A dormant member contacted at ``moments`` (UTC, in any community) and ``here``."""
    return candidate(contacts=here)._replace(contacted_at=moments)


def test_a_nudge_in_another_community_three_days_ago_is_too_soon() -> None:
    elsewhere = contacted(at(TODAY - timedelta(days=3), 20, 30))
    assert left_out_reason(elsewhere, TODAY, SHANGHAI) is SkipReason.TOO_SOON


def test_a_planned_nudge_in_another_community_today_is_too_soon() -> None:
    elsewhere = contacted(at(TODAY, 20, 30))
    assert left_out_reason(elsewhere, TODAY, SHANGHAI) is SkipReason.TOO_SOON


def test_the_gap_is_seven_calendar_days_not_168_hours() -> None:
    last_week_evening = at(TODAY - timedelta(days=7), 20, 30)  # < 168 h before 04:00 today
    assert left_out_reason(contacted(last_week_evening), TODAY, SHANGHAI) is None
    six_days = contacted(at(TODAY - timedelta(days=6), 0, 5))
    assert left_out_reason(six_days, TODAY, SHANGHAI) is SkipReason.TOO_SOON


def test_a_contact_elsewhere_counts_by_its_day_in_this_communitys_time_zone() -> None:
    # Tuesday 07:30 in Shanghai is still Monday evening in New York.
    moment = datetime(2026, 5, 25, 23, 30, tzinfo=UTC)
    member = contacted(moment)
    assert left_out_reason(member, TODAY, SHANGHAI) is SkipReason.TOO_SOON  # 6 days
    assert left_out_reason(member, TODAY, NEW_YORK) is None  # 7 days


def test_the_latest_contact_counts_wherever_it_was() -> None:
    member = contacted(at(TODAY - timedelta(days=2), 20, 30), here=(contact(20),))
    assert left_out_reason(member, TODAY, SHANGHAI) is SkipReason.TOO_SOON
