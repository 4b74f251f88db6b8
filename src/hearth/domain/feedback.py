"""The feedback box: what a member tells the team in private, and the operators' answer.

A member's feedback is a text, a photo, or a photo with a caption; it lands in the
operators' inbox of one community, open until an operator answers or closes it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from hearth.domain.errors import HearthError
from hearth.domain.rate_limits import Limit

MAX_TEXT = 2000  # characters of a feedback item or an answer: a message, not an essay
# A member may write to the team often, never flood it.
FEEDBACK_LIMITS = (Limit(3, timedelta(hours=1)), Limit(10, timedelta(days=1)))
INBOX_PAGE = 5  # items per page of /inbox


class FeedbackStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class FeedbackDraft:
    """A member's feedback, understood, before it is stored; ``message_id`` is the private
    message that carried it (its natural key: a re-delivered message stores nothing twice)."""

    text: str | None
    photo: str | None  # Telegram file id of the largest size
    message_id: int


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """One item of an operators' inbox."""

    id: int
    community_id: int
    member_id: int
    text: str | None
    photo: str | None
    status: FeedbackStatus
    created_at: datetime
    reply: str | None  # the operators' answer, once given


@dataclass(frozen=True, slots=True)
class FeedbackLine:
    """An item as operators read it in /inbox."""

    item: FeedbackItem
    member_name: str


class EmptyFeedback(HearthError):
    """Feedback with neither words nor a photo."""


class FeedbackTooLong(HearthError):
    """Feedback or an answer longer than ``MAX_TEXT`` characters."""

    def __init__(self, limit: int = MAX_TEXT) -> None:
        super().__init__(limit)
        self.limit = limit


class UnknownFeedback(HearthError):
    """An operator named an item that is not in the inbox of a community they operate."""

    def __init__(self, item_id: int) -> None:
        super().__init__(item_id)
        self.item_id = item_id


class FeedbackSettled(HearthError):
    """The item was answered or closed already."""

    def __init__(self, status: FeedbackStatus) -> None:
        super().__init__(status)
        self.status = status


def draft(text: str | None, photo: str | None, message_id: int) -> FeedbackDraft:
    """The feedback a message carries; raises EmptyFeedback or FeedbackTooLong."""
    words = (text or "").strip() or None
    if words is None and photo is None:
        raise EmptyFeedback()
    if words is not None and len(words) > MAX_TEXT:
        raise FeedbackTooLong()
    return FeedbackDraft(text=words, photo=photo, message_id=message_id)


def answer_text(text: str | None) -> str:
    """An operator's answer, trimmed; raises EmptyFeedback or FeedbackTooLong."""
    words = (text or "").strip()
    if not words:
        raise EmptyFeedback()
    if len(words) > MAX_TEXT:
        raise FeedbackTooLong()
    return words
