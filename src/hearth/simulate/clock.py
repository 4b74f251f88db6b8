"""A clock the simulator moves by hand."""

from __future__ import annotations

from datetime import UTC, datetime


class VirtualClock:
    """Returns the instant it was last set to."""

    def __init__(self, start: datetime) -> None:
        self.set(start)

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the virtual clock needs an aware datetime")
        self._now = instant.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def timestamp(self) -> float:
        return self._now.timestamp()
