"""Honour boards' pure rules: reading reports and metrics, ranks, months, rolling limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hearth.domain.honour import (
    InvalidMetricSpec,
    InvalidMonth,
    InvalidReport,
    ReportDraft,
    board_due,
    board_request,
    format_amount,
    month_of,
    parse_metric_command,
    parse_report,
    previous_month,
    rank,
)
from hearth.domain.rate_limits import Limit, first_exceeded

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("Kilometres driven 1234", ReportDraft("Kilometres driven", 123400, None)),
        ("Kilometres driven 12.5km", ReportDraft("Kilometres driven", 1250, "km")),
        ("Kilometres driven 12,05 km", ReportDraft("Kilometres driven", 1205, "km")),
        ("#3 7", ReportDraft("#3", 700, None)),
        ("Top 10 rides 4", ReportDraft("Top 10 rides", 400, None)),
    ],
)
def test_a_report_is_a_board_then_a_value_maybe_with_its_unit(
    args: str, expected: ReportDraft
) -> None:
    assert parse_report(args) == expected


@pytest.mark.parametrize("args", ["", "1234", "Kilometres driven", "km -5", "km 1.234", "km 5 a b"])
def test_a_report_without_a_board_or_a_positive_value_is_refused(args: str) -> None:
    with pytest.raises(InvalidReport):
        parse_report(args)


def test_a_metric_command_takes_flags_anywhere_and_refuses_unknown_ones() -> None:
    draft = parse_metric_command("unit=km Kilometres approval=yes driven max=20000 post=no")
    assert (draft.name, draft.unit, draft.needs_approval, draft.max_amount, draft.post_board) == (
        "Kilometres driven",
        "km",
        True,
        2_000_000,
        False,
    )
    for bad in ("", "unit=km", "Laps colour=red", "Laps max=0", "Laps unit=k2"):
        with pytest.raises(InvalidMetricSpec):
            parse_metric_command(bad)


def test_equal_totals_share_a_rank_and_the_next_rank_skips() -> None:
    standings = rank([(1, "A", 500), (2, "B", 300), (3, "C", 300), (4, "D", 100)])
    assert [(s.rank, s.name) for s in standings] == [(1, "A"), (2, "B"), (2, "C"), (4, "D")]
    assert [s.member_id for s in rank([(n, "x", n) for n in range(20)], size=3)] == [19, 18, 17]


def test_amounts_read_as_people_write_them() -> None:
    assert [format_amount(value) for value in (100, 150, 123456, 5)] == [
        "1",
        "1.5",
        "1,234.56",
        "0.05",
    ]


def test_months_are_local_and_the_board_is_due_from_ten_on_the_first_for_three_days() -> None:
    assert month_of(datetime(2026, 3, 31, 16, 30, tzinfo=UTC), "Asia/Shanghai") == "2026-04"
    assert month_of(datetime(2026, 3, 31, 16, 30, tzinfo=UTC), "UTC") == "2026-03"
    assert previous_month("2026-01") == "2025-12"
    due = [
        board_due(datetime(2026, 4, day, hour, tzinfo=UTC), "UTC")
        for day, hour in ((1, 9), (1, 10), (3, 23), (4, 0))
    ]
    assert due == [None, "2026-03", "2026-03", None]
    assert board_request("Kilometres driven 2026-02") == ("Kilometres driven", "2026-02")
    assert board_request("Top 10") == ("Top 10", None)
    with pytest.raises(InvalidMonth):
        board_request("Laps 2026-13")


def test_a_rolling_limit_says_when_one_more_is_allowed() -> None:
    limits = (Limit(3, timedelta(hours=1)), Limit(10, timedelta(days=1)))
    sent = [NOW - timedelta(minutes=minutes) for minutes in (50, 20, 10)]
    exceeded = first_exceeded(sent, NOW, limits)
    assert exceeded is not None
    assert (exceeded.limit, exceeded.retry_at) == (limits[0], NOW + timedelta(minutes=10))
    assert first_exceeded(sent[1:], NOW, limits) is None
    assert first_exceeded([NOW - timedelta(minutes=61), *sent[1:]], NOW, limits) is None
