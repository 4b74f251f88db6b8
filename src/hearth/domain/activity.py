"""Engagement events: what counts as a member taking part, and what does not."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime


class ActivityKind(enum.StrEnum):
    """Kinds of engagement; everything that measures engagement derives from these rows."""

    MESSAGE = "message"
    REPLY = "reply"
    REACTION = "reaction"
    JOIN = "join"
    LEAVE = "leave"
    START = "start"
    CHECKIN = "checkin"
    RSVP = "rsvp"
    ATTENDANCE = "attendance"
    FEEDBACK = "feedback"
    QUIZ_ANSWER = "quiz_answer"
    PROFILE = "profile"  # answered a question of the onboarding questionnaire


# Kinds that show a member chose to take part (joins and leaves are not participation).
PARTICIPATION_KINDS = frozenset(
    {
        ActivityKind.MESSAGE,
        ActivityKind.REPLY,
        ActivityKind.REACTION,
        ActivityKind.START,
        ActivityKind.CHECKIN,
        ActivityKind.RSVP,
        ActivityKind.ATTENDANCE,
        ActivityKind.FEEDBACK,
        ActivityKind.QUIZ_ANSWER,
        ActivityKind.PROFILE,
    }
)


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """One engagement event. Never holds message text: only who, where, what kind and when."""

    community_id: int
    member_id: int
    kind: ActivityKind
    occurred_at: datetime
    local_day: date  # the day in the community's time zone; daily figures group by it
    update_id: int | None = None
    peer_member_id: int | None = None  # the member replied to, when there is one
    earns_points: bool = False  # a substantive message (not a one-word or emoji-only one)


@dataclass(frozen=True, slots=True)
class ActivityDay:
    """What a member did of one kind on one local day, as their timeline shows it."""

    local_day: date
    kind: ActivityKind
    count: int
    first_at: datetime  # UTC
    last_at: datetime


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What a handler observed about a group message, stripped of its content."""

    sender_is_bot: bool
    sent_on_behalf_of_chat: bool  # anonymous admin or linked channel (sender_chat set)
    is_service: bool
    replied_to_member_id: int | None
    replied_to_is_bot: bool
    substantive: bool = True  # text of a few words, or media; not "ok" or one emoji


def message_activity(facts: MessageFacts, sender_id: int) -> ActivityKind | None:
    """Return the activity kind a group message is worth, or None if it is not member activity.

    Bots and messages sent on behalf of a chat are not members; service messages are
    recorded by the membership rules instead. A reply to another member is a reply; a
    reply to oneself or to a bot is an ordinary message.
    """
    if facts.sender_is_bot or facts.sent_on_behalf_of_chat or facts.is_service:
        return None
    if (
        facts.replied_to_member_id is not None
        and not facts.replied_to_is_bot
        and facts.replied_to_member_id != sender_id
    ):
        return ActivityKind.REPLY
    return ActivityKind.MESSAGE


MIN_SUBSTANTIVE_CHARACTERS = 8


def is_substantive(text: str | None, has_media: bool) -> bool:
    """Whether a message says something: media, or text beyond a word or an emoji."""
    if has_media:
        return True
    return text is not None and len(text.strip()) >= MIN_SUBSTANTIVE_CHARACTERS


def reaction_counts(old_count: int, new_count: int) -> bool:
    """A reaction update is activity only when the member added a reaction."""
    return new_count > old_count
