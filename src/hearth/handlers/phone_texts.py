"""Texts of /phone: sharing one's own phone number with the club, through gettext."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from hearth.domain.phones import ContactVerdict
from hearth.handlers.texts import quote


def explanation(current: str | None) -> str:
    lines = [
        _("📞 <b>Your phone number</b>"),
        _(
            "If you share your number, the club can match the service visits and purchases "
            "the dealer reports to your membership — for example to thank you with points for "
            "a purchase. Nobody in the group sees it, and operators' files leave it out unless "
            "they ask for it."
        ),
        "",
    ]
    if current:
        lines.append(_("You shared {phone}. /phone off deletes it.").format(phone=quote(current)))
    lines.append(
        _(
            "Tap “Share my number” below: Telegram sends your own number, nothing else. "
            "Sharing is optional."
        )
    )
    return "\n".join(lines)


def share_button() -> str:
    return _("📞 Share my number")


def cancel_button() -> str:
    return _("Cancel")


def saved(phone: str) -> str:
    return _(
        "Thank you: I keep {phone} for matching the dealer's records. /phone off deletes it; "
        "/mydata shows it."
    ).format(phone=quote(phone))


def refused(verdict: ContactVerdict) -> str:
    if verdict is ContactVerdict.RELAYED:
        reason = _("a forwarded contact can be anybody's")
    elif verdict is ContactVerdict.SOMEONE_ELSE:
        reason = _("that is someone else's contact")
    elif verdict is ContactVerdict.NO_ACCOUNT:
        reason = _("that contact belongs to no Telegram account")
    else:
        reason = _("I cannot read that number")
    return _(
        "I did not store it: {reason}. Only your own number, shared with the button under "
        "/phone, is kept."
    ).format(reason=reason)


def cancelled() -> str:
    return _("Nothing was shared.")


def deleted() -> str:
    return _("Done: I deleted your phone number.")


def none_to_delete() -> str:
    return _("You have not shared a phone number: there is nothing to delete.")


def usage() -> str:
    return _("Usage: /phone to share your number, /phone off to delete it")


def in_private() -> str:
    return _("Your number is yours alone: send /phone to me in private.")
