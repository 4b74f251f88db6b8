"""What /console says."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _


def link() -> str:
    return _(
        "<b>Your console sign-in link</b>\n"
        "It works once, for 10 minutes, and only for you: do not forward it. In the console "
        "you see the communities you run: members, points and rewards, events, the schedule "
        "and nudges."
    )


def open_button() -> str:
    return _("Open the console")


def not_set_up() -> str:
    return _(
        "The web console is not set up on this bot: its host sets HEARTH_CONSOLE_URL to "
        "the address the console is served at."
    )


def in_private() -> str:
    return _("Send /console to me in private: the sign-in link is yours alone.")
