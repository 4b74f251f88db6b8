"""Texts of /forget_me and /forget, through gettext; names are HTML-escaped.

The explanation is the promise: it must say exactly what services/privacy.py erases and
keeps, and that using the bot again brings the name back.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from hearth.handlers.texts import quote


def anonymous_name() -> str:
    """What a forgotten member is called from then on (boards, lists, exports)."""
    return _("Former member")


def forget_me_explanation() -> str:
    return "\n".join(
        [
            _("<b>Erase your personal data?</b>"),
            "",
            _("I will erase, in every community:"),
            _("• your first and last name (you will appear as “{name}”), your username and "
              "your Telegram language;").format(name=anonymous_name()),
            _("• your birthday and your wish to receive greetings;"),
            _("• the tags the team and I gave you, and your answers in /profile;"),
            _("• your car in /car and your requests to book a service;"),
            _("• your written comments on events (your ratings stay, without a name);"),
            _("• what you told the team with /feedback and their answers, your answers on "
              "why you left a group, and the photos you sent as proof for honour boards;"),
            _("• your nudge settings (on or off, quiet hours) and the record of the nudges I "
              "sent you;"),
            _("• the text of the messages I already sent you, and of my past messages in "
              "the group that named you."),
            "",
            _("I keep, without your name: your points and their history, your check-ins, "
              "when you took part (never what you wrote — I never store messages), your "
              "event registrations and attendance, and your quiz answers. Your points stay "
              "yours, and the community's figures stay right."),
            "",
            _("Messages already on their way to you are still delivered. If you keep taking "
              "part afterwards (commands, buttons, messages in the group), Telegram shows me "
              "your name again and I will store it again."),
        ]
    )  # fmt: skip


def erase_button() -> str:
    return _("Erase my data")


def keep_button() -> str:
    return _("Keep my data")


def forget_me_done() -> str:
    return _("Done: your personal data is erased. You now appear as “{name}”.").format(
        name=anonymous_name()
    )


def forget_me_kept() -> str:
    return _("Nothing was erased.")


def forget_me_in_private() -> str:
    return _("To erase your personal data, send /forget_me to me in private.")


def forget_usage() -> str:
    return _("Usage: /forget @username|id — erases a member's personal data at their request")


def forget_in_private() -> str:
    return _("Send /forget to me in private: it is about one member's personal data.")


def confirm_forget(name: str) -> str:
    return "\n".join(
        [
            _("Erase the personal data of {name} at their request?").format(name=quote(name)),
            _("Their names, username, birthday, greeting wishes, tags, event comments, nudge "
              "settings and nudge history, and the text of the messages sent to them are "
              "erased in every community. Their points, activity and attendance stay counted, "
              "without a name. They are not told."),
        ]
    )  # fmt: skip


def forget_button() -> str:
    return _("Erase")


def cancel_button() -> str:
    return _("Cancel")


def forget_done(name: str) -> str:
    return _("Done: {name}'s personal data is erased; they now appear as “{anonymous}”.").format(
        name=quote(name), anonymous=anonymous_name()
    )


def forget_cancelled() -> str:
    return _("Cancelled: nothing was erased.")
