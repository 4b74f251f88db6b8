"""Inline keyboards."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from hearth.domain.members import CommunityProfile
from hearth.handlers.callbacks import (
    AdjustmentAnswer,
    CommunityChoice,
    LanguageChoice,
    StatsChoice,
)

LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文"}


def languages(current: str) -> InlineKeyboardMarkup:
    """One button per shipped language; the current one is ticked."""
    builder = InlineKeyboardBuilder()
    for locale, name in LANGUAGE_NAMES.items():
        label = f"✓ {name}" if locale == current else name
        builder.button(text=label, callback_data=LanguageChoice(locale=locale))
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(2).export())


def start_bot(url: str) -> InlineKeyboardMarkup:
    """A one-tap deep link that opens the private chat with the bot."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Open Hearth in private"), url=url)
    return InlineKeyboardMarkup(inline_keyboard=builder.export())


def community_picker(communities: list[CommunityProfile], days: int) -> InlineKeyboardMarkup:
    """Which community an operator's private command is about."""
    builder = InlineKeyboardBuilder()
    for community in communities:
        builder.button(
            text=community.title[:60],
            callback_data=StatsChoice(community_id=community.id, days=days),
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())


def community_actions(communities: list[CommunityProfile], action: str) -> InlineKeyboardMarkup:
    """One button per community for a member's private command (check-in, points, top)."""
    builder = InlineKeyboardBuilder()
    for community in communities:
        builder.button(
            text=community.title[:60],
            callback_data=CommunityChoice(action=action, community_id=community.id),
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())


def checkin_now(community: CommunityProfile) -> InlineKeyboardMarkup:
    """The button on the daily reminder."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Check in"),
        callback_data=CommunityChoice(action="checkin", community_id=community.id),
    )
    return InlineKeyboardMarkup(inline_keyboard=builder.export())


def confirm_or_cancel(nonce: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Confirm"), callback_data=AdjustmentAnswer(nonce=nonce, confirmed=True))
    builder.button(text=_("Cancel"), callback_data=AdjustmentAnswer(nonce=nonce, confirmed=False))
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(2).export())
