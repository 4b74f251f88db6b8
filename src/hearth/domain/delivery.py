"""What the delivery engine decides: priorities, retries and the life of an outbox message.

Every message the bot sends on its own initiative is written to the outbox, with a unique
dedupe key, in the transaction that decided it; a delivery worker sends it. The rules here
are pure: how long to wait after a failure, which failures are final, what is due.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MAX_ATTEMPTS = 8  # transient failures are retried this often, with growing pauses
FIRST_BACKOFF = timedelta(seconds=2)
LONGEST_BACKOFF = timedelta(minutes=10)
# A row claimed for sending longer ago than this belongs to a worker that died mid-send.
SENDING_LEASE = timedelta(minutes=2)


class Priority(enum.IntEnum):
    """Lower goes first: replies to members, then reminders, then broadcasts."""

    REPLY = 0
    REMINDER = 1
    BROADCAST = 2


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its turn (or for ``not_before``)
    SENDING = "sending"  # claimed by a worker that is talking to Telegram right now
    SENT = "sent"
    FAILED = "failed"  # Telegram refused it (400) or it failed too often
    BLOCKED = "blocked"  # 403: the member blocked the bot or never started it
    # The worker died while Telegram had the message: it was probably delivered, and
    # sending it again could duplicate it, so it is not repeated.
    INTERRUPTED = "interrupted"
    # Its deadline (``not_after``) passed before it could go: late is worse than never.
    EXPIRED = "expired"


class Method(enum.StrEnum):
    """The Bot API calls the outbox knows how to make."""

    SEND_MESSAGE = "sendMessage"
    SEND_PHOTO = "sendPhoto"
    EDIT_MESSAGE_TEXT = "editMessageText"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message decided but not yet sent. ``payload`` holds the Bot API parameters."""

    dedupe_key: str
    chat_id: int
    payload: dict[str, Any]
    kind: str  # what it is, for reports: "checkin_reminder", "announcement", …
    priority: Priority = Priority.BROADCAST
    method: Method = Method.SEND_MESSAGE
    community_id: int | None = None
    member_id: int | None = None  # set for private messages to a member
    not_before: datetime | None = None  # send no earlier than this
    not_after: datetime | None = None  # never send later than this (UTC); None: no deadline


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """An outbox row a worker may send."""

    id: int
    dedupe_key: str
    chat_id: int
    method: Method
    payload: dict[str, Any]
    kind: str
    priority: Priority
    attempts: int
    member_id: int | None
    community_id: int | None
    not_after: datetime | None = None  # its deadline (UTC), if it has one

    @property
    def private(self) -> bool:
        """Telegram's private chats have positive ids, groups negative ones."""
        return self.chat_id > 0

    def expired(self, now: datetime) -> bool:
        """Whether its deadline has passed: it must not be sent any more."""
        return self.not_after is not None and self.not_after <= now


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """How many messages are in each state (for ``/outbox`` and ``hearth outbox``)."""

    by_status: dict[OutboxStatus, int] = field(default_factory=dict)
    oldest_queued: datetime | None = None
    recent_errors: tuple[tuple[str, str, int], ...] = ()  # (kind, error, count)

    def __getitem__(self, status: OutboxStatus) -> int:
        return self.by_status.get(status, 0)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def backoff(attempts: int) -> timedelta:
    """The pause before retry number ``attempts`` (1, 2, …) after a transient failure."""
    pause: timedelta = FIRST_BACKOFF * (2 ** max(attempts - 1, 0))
    return min(pause, LONGEST_BACKOFF)


def gives_up(attempts: int) -> bool:
    """Whether a message that failed ``attempts`` times is failed for good."""
    return attempts >= MAX_ATTEMPTS


def retry_at(now: datetime, attempts: int) -> datetime:
    return now + backoff(attempts)
