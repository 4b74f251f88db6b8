"""Local days in a community's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_day(instant: datetime, timezone: str) -> date:
    """The calendar day of an aware instant in an IANA time zone."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(ZoneInfo(timezone)).date()


def day_range(first: date, last: date) -> list[date]:
    """Every day from first to last, both included (empty when last < first)."""
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def start_of_local_day(day: date, timezone: str) -> datetime:
    """The UTC instant at which a local day begins."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    return midnight.astimezone(UTC)
