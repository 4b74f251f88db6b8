"""Announcements: what operators post to their community, once or on a schedule.

Each scheduled instant of an announcement is run at most once: its run is recorded under
a unique (announcement, instant) and every message it sends is queued under a dedupe key
of announcement × instant × chat, in the same transaction.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from hearth.domain.errors import HearthError
from hearth.domain.schedules import Schedule


class Audience(enum.StrEnum):
    """Who receives an announcement."""

    GROUP = "group"
    # The group, and in private every member who started the bot and did not opt out.
    GROUP_AND_PRIVATE = "group_private"

    @property
    def private_copies(self) -> bool:
        return self is Audience.GROUP_AND_PRIVATE


class RunStatus(enum.StrEnum):
    SENT = "sent"  # its messages were queued in the outbox
    SKIPPED = "skipped"  # missed while the bot was down, past the grace period


@dataclass(frozen=True, slots=True)
class NewAnnouncement:
    community_id: int
    html: str  # the operator's text with its formatting, as Telegram HTML ("" for a bare photo)
    photo: str | None  # a Telegram file id
    schedule: Schedule
    audience: Audience


@dataclass(frozen=True, slots=True)
class Announcement:
    id: int
    community_id: int
    html: str
    photo: str | None
    schedule: Schedule
    audience: Audience
    paused: bool
    created_by: int | None
    created_at: datetime
    # Runs due before this instant are not caught up (set at creation and on resume).
    active_since: datetime


class UnknownAnnouncement(HearthError):
    """No announcement with that number in the operator's communities."""


class AlreadyInThatState(HearthError):
    """Pausing a paused announcement, or resuming a running one."""

    def __init__(self, announcement: Announcement) -> None:
        super().__init__(announcement.id)
        self.announcement = announcement


def run_key(announcement_id: int, scheduled_for: datetime, chat_id: int) -> str:
    """The outbox dedupe key of one announcement's run to one chat."""
    instant = scheduled_for.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"announcement:{announcement_id}:{instant}:{chat_id}"
