"""The events' buttons: callback data (short, versioned prefixes, validated) and keyboards."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from hearth.domain.events import Answer, Event
from hearth.domain.members import CommunityProfile
from hearth.handlers import events_texts
from hearth.handlers.callbacks import CHAT_ID_LIMIT

ROW_ID_LIMIT = 2**63 - 1  # a BIGINT: anything larger is forged and must never reach SQL
NONCE = r"^[A-Za-z0-9_-]{8}$"
SHORT_TITLE = 24


class EventRsvp(CallbackData, prefix="ev1r"):
    """A member pressed Going / Maybe / Can't go (on the card or in /events)."""

    event_id: int = Field(ge=1, le=ROW_ID_LIMIT)
    answer: Answer


class NewEventFor(CallbackData, prefix="ev1c"):
    """An operator of several communities picked where /event_new belongs."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    nonce: str = Field(pattern=NONCE)


class EventPublish(CallbackData, prefix="ev1p"):
    """The operator published or discarded the previewed event."""

    nonce: str = Field(pattern=NONCE)
    publish: bool


class EventRating(CallbackData, prefix="ev1s"):
    """An attendee rated an event (1–5)."""

    event_id: int = Field(ge=1, le=ROW_ID_LIMIT)
    rating: int = Field(ge=1, le=5)


class EventRecommend(CallbackData, prefix="ev1n"):
    """An attendee said how likely they are to recommend the community (0–10)."""

    event_id: int = Field(ge=1, le=ROW_ID_LIMIT)
    score: int = Field(ge=0, le=10)


def rsvp_buttons(event_id: int) -> InlineKeyboardMarkup:
    """The card's three buttons."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=events_texts.button_going(),
        callback_data=EventRsvp(event_id=event_id, answer=Answer.GOING),
    )
    builder.button(
        text=events_texts.button_maybe(),
        callback_data=EventRsvp(event_id=event_id, answer=Answer.MAYBE),
    )
    builder.button(
        text=events_texts.button_not_going(),
        callback_data=EventRsvp(event_id=event_id, answer=Answer.NOT_GOING),
    )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(3).export())


def listing_buttons(events: Sequence[Event]) -> InlineKeyboardMarkup | None:
    """/events: one row per event, the three answers under its number."""
    if not events:
        return None
    builder = InlineKeyboardBuilder()
    for event in events:
        for answer, label in (
            (Answer.GOING, events_texts.button_going()),
            (Answer.MAYBE, events_texts.button_maybe()),
            (Answer.NOT_GOING, events_texts.button_not_going()),
        ):
            builder.button(
                text=f"#{event.id} {label}",
                callback_data=EventRsvp(event_id=event.id, answer=answer),
            )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(3).export())


def community_picker(communities: Sequence[CommunityProfile], nonce: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for community in communities:
        builder.button(
            text=community.title[:60],
            callback_data=NewEventFor(community_id=community.id, nonce=nonce),
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())


def publish_or_discard(nonce: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=events_texts.button_publish(), callback_data=EventPublish(nonce=nonce, publish=True)
    )
    builder.button(
        text=events_texts.button_discard(), callback_data=EventPublish(nonce=nonce, publish=False)
    )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(2).export())


def rating_buttons(event_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for rating in range(1, 6):
        builder.button(
            text="⭐" * rating if rating == 1 else f"{rating}⭐",
            callback_data=EventRating(event_id=event_id, rating=rating),
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(5).export())


def recommend_buttons(event_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for score in range(11):
        builder.button(
            text=str(score), callback_data=EventRecommend(event_id=event_id, score=score)
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(6, 5).export())
