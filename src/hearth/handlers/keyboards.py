"""Inline keyboards."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from hearth.domain.members import CommunityProfile
from hearth.domain.nudges import QUIET_HOURS_CHOICES, NudgeKind, NudgeMessage, NudgePreference
from hearth.handlers import nudges_texts
from hearth.handlers.callbacks import (
    AdjustmentAnswer,
    CommunityChoice,
    LanguageChoice,
    NudgeAction,
    NudgeChoice,
    NudgeSetting,
    NudgeTap,
    StatsChoice,
)

LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文"}


def languages(current: str) -> InlineKeyboardMarkup:
    """One button per shipped language; the current one is ticked."""
    return InlineKeyboardMarkup(inline_keyboard=_language_rows(current))


def _language_rows(current: str) -> list[list[InlineKeyboardButton]]:
    builder = InlineKeyboardBuilder()
    for locale, name in LANGUAGE_NAMES.items():
        label = f"✓ {name}" if locale == current else name
        builder.button(text=label, callback_data=LanguageChoice(locale=locale))
    return builder.adjust(2).export()


def settings(locale: str, preference: NudgePreference | None) -> InlineKeyboardMarkup:
    """/settings: the languages, then nudges on or off and the quiet hours (current ticked)."""
    rows = _language_rows(locale)
    if preference is not None:
        builder = InlineKeyboardBuilder()
        builder.button(
            text=nudges_texts.button_switch(preference.enabled),
            callback_data=NudgeChoice(
                setting=NudgeSetting.OFF if preference.enabled else NudgeSetting.ON
            ),
        )
        for index, quiet in enumerate(QUIET_HOURS_CHOICES):
            builder.button(
                text=nudges_texts.button_quiet(quiet, quiet == preference.quiet),
                callback_data=NudgeChoice(setting=NudgeSetting.QUIET, quiet=index),
            )
        rows += builder.adjust(1, 2).export()
    return InlineKeyboardMarkup(inline_keyboard=rows)


def nudge(message: NudgeMessage) -> InlineKeyboardMarkup:
    """A nudge's buttons: the one thing it invites to do, and "Stop these messages"."""
    builder = InlineKeyboardBuilder()
    label, action = _nudge_invitation(message)
    builder.button(text=label, callback_data=NudgeTap(nudge_id=message.nudge_id, action=action))
    builder.button(
        text=nudges_texts.button_stop(),
        callback_data=NudgeTap(nudge_id=message.nudge_id, action=NudgeAction.STOP),
    )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())


def _nudge_invitation(message: NudgeMessage) -> tuple[str, NudgeAction]:
    kind = message.kind
    if kind is NudgeKind.EVENT:
        return nudges_texts.button_see_event(), NudgeAction.EVENT
    if kind is NudgeKind.EXPIRING:
        return nudges_texts.button_spend(), NudgeAction.REWARDS
    if kind is NudgeKind.QUIZ:
        return nudges_texts.button_quiz(), NudgeAction.QUIZ
    if kind is NudgeKind.COMEBACK and message.bonus > 0:
        return nudges_texts.button_claim(message.bonus), NudgeAction.CLAIM
    return nudges_texts.button_check_in(), NudgeAction.CHECKIN


def nudges_stopped(nudge_id: int) -> InlineKeyboardMarkup:
    """Under "no more of these messages": one tap turns them on again."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=nudges_texts.button_undo(),
        callback_data=NudgeTap(nudge_id=nudge_id, action=NudgeAction.UNDO),
    )
    return InlineKeyboardMarkup(inline_keyboard=builder.export())


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
