"""Texts and buttons of the exit survey, through gettext."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from hearth.domain.exit_survey import Departures, ExitReason
from hearth.handlers.callbacks import CHAT_ID_LIMIT
from hearth.handlers.texts import quote


class ExitAnswer(CallbackData, prefix="ex1a"):
    """A member who left tapped why; checked against the question they were asked."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    reason: ExitReason


def reason_name(reason: ExitReason) -> str:
    names = {
        ExitReason.TOO_MANY_MESSAGES: _("Too many messages"),
        ExitReason.NOT_RELEVANT: _("Not relevant to me any more"),
        ExitReason.SOLD_CAR: _("I sold my car"),
        ExitReason.OTHER_COMMUNITY: _("I found another community"),
        ExitReason.OTHER: _("Something else"),
    }
    return names[reason]


def question(title: str) -> str:
    return _(
        "You left <b>{title}</b>. May I ask why? One tap is enough — it helps the team make "
        "the group better. (I will not ask again.)"
    ).format(title=quote(title))


def reason_buttons(community_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for reason in ExitReason:
        builder.button(
            text=reason_name(reason),
            callback_data=ExitAnswer(community_id=community_id, reason=reason),
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())


def thanks(reason: ExitReason) -> str:
    return "\n".join(
        [
            _("Thank you! You answered: {reason}.").format(reason=reason_name(reason)),
            _("If you like, add a few words in your next message, or send /skip."),
        ]
    )


def comment_kept() -> str:
    return _("Thank you — the team will read it. All the best!")


def skipped() -> str:
    return _("Thank you, and all the best!")


def comment_too_long(limit: int) -> str:
    return _("That is a little long: at most {limit} characters, please.").format(limit=limit)


def departures(figures: Departures) -> list[str]:
    """The "why members left" section of /stats and the digest, after a blank line; nothing
    when nobody who left could be asked."""
    if not figures.asked:
        return []
    lines = [
        "",
        _("<b>Why members left</b> (answered by {answered} of {asked} asked)").format(
            answered=figures.answered, asked=figures.asked
        ),
    ]
    lines += [
        _("• {reason}: {count}").format(reason=reason_name(reason), count=count)
        for reason, count in figures.most_common()
    ]
    return lines
