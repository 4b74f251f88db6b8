"""Texts of /me, through gettext."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from hearth.handlers import missions_texts, profile_texts, referrals_texts
from hearth.handlers.texts import quote
from hearth.services.me import Overview


def card(overview: Overview, invite_link: str) -> str:
    """The member's place in one community, with their invite link."""
    lines = [
        _("<b>You in {title}</b>").format(title=quote(overview.community.title)),
        _("Points: {points} — /points").format(points=overview.balance),
        profile_texts.summary_line(overview.profile),
        referrals_texts.counts(overview.referrals),
        "",
    ]
    if overview.missions is not None:  # a newcomer's first steps
        community = overview.community
        checklist = missions_texts.checklist(overview.missions, community.title, community.timezone)
        lines += [checklist, ""]
    lines.append(_("Your invite: {link}").format(link=quote(invite_link)))
    if overview.referral_points > 0:
        lines.append(
            _("A friend who joins with it and checks in earns you {points} points.").format(
                points=overview.referral_points
            )
        )
    return "\n".join(lines)
