"""Retention by join week: local Monday weeks, shares of each cohort, empty cells."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hearth.domain.cohorts import (
    MAX_COHORTS,
    WEEK,
    CohortCounts,
    cohort_starts,
    retention,
    week_ended,
    week_label,
    week_start,
)

WEDNESDAY = date(2026, 3, 4)  # in the week of Monday 2 March 2026
THIS_MONDAY = date(2026, 3, 2)


def weeks_ago(count: int) -> date:
    return THIS_MONDAY - WEEK * count


def test_weeks_begin_on_monday_and_a_monday_is_its_own_week() -> None:
    assert week_start(WEDNESDAY) == THIS_MONDAY
    assert week_start(THIS_MONDAY) == THIS_MONDAY
    assert week_start(date(2026, 3, 8)) == THIS_MONDAY  # Sunday closes the week
    assert week_start(date(2026, 3, 9)) == date(2026, 3, 9)


def test_cohorts_are_the_last_mondays_oldest_first_ending_with_this_week() -> None:
    assert cohort_starts(WEDNESDAY, 3) == [weeks_ago(2), weeks_ago(1), THIS_MONDAY]


@pytest.mark.parametrize("count", [0, MAX_COHORTS + 1])
def test_a_number_of_cohorts_out_of_range_is_refused(count: int) -> None:
    with pytest.raises(ValueError, match="cohorts must be"):
        cohort_starts(WEDNESDAY, count)


def test_a_week_is_over_only_after_its_sunday() -> None:
    assert not week_ended(THIS_MONDAY, date(2026, 3, 8))  # Sunday: still running
    assert week_ended(THIS_MONDAY, date(2026, 3, 9))


def test_the_iso_week_names_the_digest_of_a_week() -> None:
    assert week_label(WEDNESDAY) == "2026-W10"
    assert week_label(date(2027, 1, 1)) == "2026-W53"  # a Friday of the last ISO week


def test_each_cell_is_the_share_of_the_cohort_active_that_week() -> None:
    oldest = weeks_ago(2)
    counts = CohortCounts(
        members={oldest: 10, weeks_ago(1): 5},
        active={(oldest, oldest): 8, (oldest, oldest + WEEK): 4, (weeks_ago(1), weeks_ago(1)): 5},
    )

    table = retention(counts, WEDNESDAY, 3)

    assert [row.start for row in table.rows] == [oldest, weeks_ago(1), THIS_MONDAY]
    assert table.rows[0].shares == (0.8, 0.4, None)
    assert table.rows[1].shares == (1.0, None, None)
    assert table.members == 15


def test_weeks_not_over_yet_are_empty_not_zero() -> None:
    # Nobody of the cohort came back in week 1, which is over; week 2 is this week.
    oldest = weeks_ago(2)
    counts = CohortCounts(members={oldest: 6}, active={(oldest, oldest): 6})

    table = retention(counts, WEDNESDAY, 3)

    assert table.rows[0].shares == (1.0, 0.0, None)
    assert table.rows[2].shares == (None, None, None)  # this week's cohort: nothing over


def test_on_monday_last_week_is_complete() -> None:
    last_week = weeks_ago(1)
    counts = CohortCounts(members={last_week: 5}, active={(last_week, last_week): 2})

    table = retention(counts, THIS_MONDAY, 2)

    assert table.rows[0].shares == (0.4, None)


def test_an_empty_cohort_has_no_shares_and_is_marked_small() -> None:
    table = retention(CohortCounts(), WEDNESDAY, 4)

    assert [row.members for row in table.rows] == [0, 0, 0, 0]
    assert all(share is None for row in table.rows for share in row.shares)
    assert all(row.small for row in table.rows)
    assert table.members == 0


def test_cohorts_below_the_minimum_are_marked_but_still_shown() -> None:
    oldest, newer = weeks_ago(2), weeks_ago(1)
    counts = CohortCounts(
        members={oldest: 4, newer: 5}, active={(oldest, oldest): 1, (newer, newer): 1}
    )

    table = retention(counts, WEDNESDAY, 3, min_members=5)

    assert (table.rows[0].small, table.rows[0].shares[0]) == (True, 0.25)
    assert (table.rows[1].small, table.rows[1].shares[0]) == (False, 0.2)


def test_a_returning_member_counts_from_the_week_of_their_return_only() -> None:
    # Their latest join put them in last week's cohort; the database still reports the
    # weeks they took part in before leaving, which belong to their earlier membership.
    returned = weeks_ago(1)
    counts = CohortCounts(
        members={returned: 1},
        active={
            (returned, returned - WEEK * 3): 1,
            (returned, returned - WEEK): 1,
            (returned, returned): 1,
        },
    )

    table = retention(counts, WEDNESDAY, 4)

    row = next(row for row in table.rows if row.start == returned)
    assert row.shares == (1.0, None, None, None)
    older = [row for row in table.rows if row.start < returned]
    assert all(share is None for row in older for share in row.shares)  # nothing leaked back


def test_the_table_has_a_column_per_cohort() -> None:
    table = retention(CohortCounts(), WEDNESDAY + timedelta(days=70), 8)
    assert table.weeks == 8
    assert {len(row.shares) for row in table.rows} == {8}
