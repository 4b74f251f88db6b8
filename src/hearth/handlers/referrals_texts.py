"""Texts of referrals (/invite, the invite's /start, the inviter's notice), through gettext."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from hearth.domain.referrals import ReferralCounts, ReferralOutcome
from hearth.handlers.texts import quote


def invite(title: str, link: str, points: int) -> str:
    lines = [
        _("<b>Your invite to {title}</b>").format(title=quote(title)),
        quote(link),
        "",
        _("Share it with friends who are not in the group yet."),
    ]
    if points > 0:
        lines.append(
            _("When one joins the group and checks in for the first time, you earn {points} "
              "points.").format(points=points)
        )  # fmt: skip
    return "\n".join(lines)


def share_button() -> str:
    return _("Share the invite")


def share_text(title: str) -> str:
    return _("Join me in {title}!").format(title=title)


def counts(found: ReferralCounts) -> str:
    """The member's referrals in one line, for /me."""
    return _(
        "Friends you invited: {invited}, joined: {joined}, brought you points: {credited} "
        "(+{points})"
    ).format(
        invited=found.invited, joined=found.joined, credited=found.credited, points=found.points
    )


def after_invite(outcome: ReferralOutcome, inviter: str | None, title: str) -> str | None:
    """What a person who opened an invite is told about it; None: nothing to add."""
    if outcome is ReferralOutcome.RECORDED and inviter:
        return _(
            "{name} invited you to {title}. Join the group and check in there with /checkin: "
            "{name} will be thanked with points."
        ).format(name=quote(inviter), title=quote(title))
    if outcome is ReferralOutcome.SELF:
        return _(
            "This is your own invite: share it with friends. It works for people who are not "
            "in {title} yet."
        ).format(title=quote(title))
    return None


def inviter_credited(friend: str, title: str, points: int) -> str:
    return _(
        "{name} joined {title} with your invite and checked in for the first time: you earned "
        "{points} points. Thank you for bringing them!"
    ).format(name=quote(friend), title=quote(title), points=points)
