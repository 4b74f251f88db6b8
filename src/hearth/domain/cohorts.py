"""Retention by join cohort, and members moving into a stage or segment.

A cohort is the members who joined a community in one local week, Monday to Sunday. Week 0
is the week they joined, week k the k-th after it; a cohort's cell for week k is the share
of its members who took part (any participation kind) at least once in that week. A member
counts in the cohort of their latest join: who left and came back starts afresh in the week
of the return, and their weeks before it belong to the earlier membership, not to this
cohort. A week that has not ended has no figure: its share can only grow, and a 0 there
would read as "nobody came back".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

MIN_COHORT_MEMBERS = 5  # smaller cohorts are shown, but marked: one member is 20% or more
DEFAULT_COHORTS = 8
MAX_COHORTS = 26  # half a year of weeks: wider tables stop being readable
WEEK = timedelta(days=7)


def week_start(day: date) -> date:
    """The Monday of the local week ``day`` falls in."""
    return day - timedelta(days=day.weekday())


def week_label(day: date) -> str:
    """The ISO week of ``day``, e.g. ``2026-W10``: one digest per community and week."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def cohort_starts(today: date, count: int) -> list[date]:
    """The Mondays of the last ``count`` weeks, oldest first; the last is today's week."""
    if not 1 <= count <= MAX_COHORTS:
        raise ValueError(f"cohorts must be 1-{MAX_COHORTS}, not {count}")
    current = week_start(today)
    return [current - WEEK * back for back in range(count - 1, -1, -1)]


def week_ended(start: date, today: date) -> bool:
    """Whether the week beginning on ``start`` is over on the local day ``today``."""
    return start + timedelta(days=6) < today


@dataclass(frozen=True, slots=True)
class CohortCounts:
    """What the database counts for a set of cohorts (keys are Mondays).

    ``members``: members whose latest join fell in the cohort's week. ``active``: for each
    (cohort, week) pair, how many of the cohort's members took part in that week; weeks
    before the cohort's own (a returning member's earlier membership) may be present and
    are not counted.
    """

    members: Mapping[date, int] = field(default_factory=dict)
    active: Mapping[tuple[date, date], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CohortRow:
    """One cohort: its Monday, its size, and the share active in each week since joining."""

    start: date
    members: int
    shares: tuple[float | None, ...]  # None: the week has not ended, or nobody joined
    small: bool  # fewer members than the table's minimum: read its shares with care


@dataclass(frozen=True, slots=True)
class RetentionTable:
    """Cohorts oldest first; column k is the k-th week after joining."""

    today: date
    rows: tuple[CohortRow, ...]
    min_members: int = MIN_COHORT_MEMBERS

    @property
    def weeks(self) -> int:
        """How many columns: the oldest cohort has a (possibly empty) cell for each."""
        return len(self.rows)

    @property
    def members(self) -> int:
        return sum(row.members for row in self.rows)


def retention(
    counts: CohortCounts,
    today: date,
    cohorts: int = DEFAULT_COHORTS,
    *,
    min_members: int = MIN_COHORT_MEMBERS,
) -> RetentionTable:
    """The retention table of the last ``cohorts`` weeks as of the local day ``today``.

    Each row has a cell per column; cells of weeks that have not ended (including every
    week after today) and every cell of a cohort nobody joined are None, never 0.
    """
    starts = cohort_starts(today, cohorts)
    rows = []
    for start in starts:
        size = counts.members.get(start, 0)
        shares: list[float | None] = []
        for offset in range(cohorts):
            week = start + WEEK * offset
            if size == 0 or not week_ended(week, today):
                shares.append(None)
            else:
                shares.append(counts.active.get((start, week), 0) / size)
        rows.append(CohortRow(start, size, tuple(shares), small=size < min_members))
    return RetentionTable(today, tuple(rows), min_members)


@dataclass(frozen=True, slots=True)
class Movement:
    """A member who moved into a lifecycle stage or an RFM segment (the digest lists them)."""

    member_id: int
    name: str
    into: str  # the stage or segment, as stored
    high_value: bool
