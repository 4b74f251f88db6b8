"""The exit survey: one short question to a member who left the group, and its answers.

A member is asked at most once per community, ever (leaving, coming back and leaving
again asks nothing more), and only if they started the bot and can be written to.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hearth.domain.errors import HearthError

MAX_COMMENT = 500  # characters of the optional free text
COMMENT_WINDOW = timedelta(days=1)  # how long after a tap the next message is taken as a comment


class ExitReason(enum.StrEnum):
    """Why a member left (short values: they travel in callback data)."""

    TOO_MANY_MESSAGES = "noise"
    NOT_RELEVANT = "relevance"
    SOLD_CAR = "sold_car"
    OTHER_COMMUNITY = "elsewhere"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Departures:
    """Why members who left in a period said they left: how many were asked, answered, and
    the answers per reason."""

    asked: int = 0
    answered: int = 0
    reasons: Counter[ExitReason] = field(default_factory=Counter)

    def most_common(self) -> list[tuple[ExitReason, int]]:
        """The reasons given, most frequent first (ties in the order of ``ExitReason``)."""
        order = list(ExitReason)
        return sorted(
            ((reason, count) for reason, count in self.reasons.items() if count),
            key=lambda pair: (-pair[1], order.index(pair[0])),
        )


class UnknownSurvey(HearthError):
    """An answer to a question the member was never asked (an old or forged button)."""


class CommentTooLong(HearthError):
    def __init__(self, limit: int = MAX_COMMENT) -> None:
        super().__init__(limit)
        self.limit = limit


def comment_text(text: str | None) -> str | None:
    """The free text, trimmed (None when empty); raises CommentTooLong."""
    words = (text or "").strip()
    if len(words) > MAX_COMMENT:
        raise CommentTooLong()
    return words or None


def comment_still_welcome(tapped_at: datetime, now: datetime) -> bool:
    """Whether a message at ``now`` is still the comment on a tap at ``tapped_at``."""
    return now - tapped_at <= COMMENT_WINDOW
