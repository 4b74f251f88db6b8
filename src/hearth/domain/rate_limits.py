"""Rolling limits on what one member may send the team: "at most 3 an hour, 10 a day"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hearth.domain.errors import HearthError


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` within any ``window`` (a rolling window, not a calendar one)."""

    count: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Exceeded:
    """The limit one more would break, and the first moment one more is allowed again."""

    limit: Limit
    retry_at: datetime


def first_exceeded(
    sent: Sequence[datetime], now: datetime, limits: Sequence[Limit]
) -> Exceeded | None:
    """The first of ``limits`` that one more at ``now`` would break, given the earlier
    ``sent`` moments; None when one more is allowed."""
    for limit in limits:
        recent = sorted(at for at in sent if now - limit.window < at <= now)
        if len(recent) >= limit.count:
            # one more is allowed once the oldest that still counts has left the window
            return Exceeded(limit, recent[-limit.count] + limit.window)
    return None


class OverLimit(HearthError):
    """One more would break ``exceeded.limit``; it is allowed from ``exceeded.retry_at``."""

    def __init__(self, exceeded: Exceeded) -> None:
        super().__init__(exceeded)
        self.limit = exceeded.limit
        self.retry_at = exceeded.retry_at


def check(sent: Sequence[datetime], now: datetime, limits: Sequence[Limit]) -> None:
    """Raise OverLimit when one more at ``now`` would break one of ``limits``."""
    exceeded = first_exceeded(sent, now, limits)
    if exceeded is not None:
        raise OverLimit(exceeded)
