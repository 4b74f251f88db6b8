"""Announcements' buttons (callback data with short, versioned prefixes) and what a run
looks like: the operator's preview and the delivery adapter render with the same functions.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from hearth.domain.announcements import Audience
from hearth.domain.members import CommunityProfile
from hearth.handlers import announcements_texts as words
from hearth.handlers.callbacks import CHAT_ID_LIMIT
from hearth.services.announcements import Planned

ROW_ID_LIMIT = 2**63 - 1  # a BIGINT: anything larger is forged and must never reach SQL


class AnnounceFor(CallbackData, prefix="an1c"):
    """An operator of several communities picked where /announce goes."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)


class AudienceChoice(CallbackData, prefix="an1a"):
    audience: Audience


class AnnounceDecision(CallbackData, prefix="an1k"):
    """Confirm or cancel the previewed announcement."""

    confirmed: bool


class Manage(enum.StrEnum):
    PAUSE = "p"
    RESUME = "r"
    DELETE = "d"  # asks to confirm
    DELETE_FOR_GOOD = "x"
    KEEP = "k"


class ManageAnnouncement(CallbackData, prefix="an1m"):
    announcement_id: int = Field(ge=1, le=ROW_ID_LIMIT)
    action: Manage


class StopAnnouncements(CallbackData, prefix="an1o"):
    """The one-tap opt-out under an announcement received in private."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)


def _markup(builder: InlineKeyboardBuilder, *sizes: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(*sizes).export())


def stop_button(community: CommunityProfile) -> InlineKeyboardMarkup:
    """Under every private copy of an announcement (rendered in the member's language)."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=words.stop_button(community.title),
        callback_data=StopAnnouncements(community_id=community.id),
    )
    return _markup(builder, 1)


def community_picker(communities: Sequence[CommunityProfile]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for community in communities:
        builder.button(
            text=community.title[:60], callback_data=AnnounceFor(community_id=community.id)
        )
    return _markup(builder, 1)


def audiences() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for choice in Audience:
        builder.button(
            text=words.audience_button(choice), callback_data=AudienceChoice(audience=choice)
        )
    return _markup(builder, 1)


def confirm_or_cancel() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=words.confirm_button(), callback_data=AnnounceDecision(confirmed=True))
    builder.button(text=words.cancel_button(), callback_data=AnnounceDecision(confirmed=False))
    return _markup(builder, 2)


def manage_buttons(lines: Sequence[Planned]) -> InlineKeyboardMarkup | None:
    """Pause or resume, and delete, for each listed announcement."""
    if not lines:
        return None
    builder = InlineKeyboardBuilder()
    for line in lines:
        number = line.announcement.id
        if line.announcement.paused:
            builder.button(
                text=words.resume_button(number),
                callback_data=ManageAnnouncement(announcement_id=number, action=Manage.RESUME),
            )
        else:
            builder.button(
                text=words.pause_button(number),
                callback_data=ManageAnnouncement(announcement_id=number, action=Manage.PAUSE),
            )
        builder.button(
            text=words.delete_button(number),
            callback_data=ManageAnnouncement(announcement_id=number, action=Manage.DELETE),
        )
    return _markup(builder, 2)


def delete_or_keep(number: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=words.delete_for_good_button(),
        callback_data=ManageAnnouncement(announcement_id=number, action=Manage.DELETE_FOR_GOOD),
    )
    builder.button(
        text=words.keep_button(),
        callback_data=ManageAnnouncement(announcement_id=number, action=Manage.KEEP),
    )
    return _markup(builder, 2)
