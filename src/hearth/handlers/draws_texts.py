"""Every text of the lucky draws, through gettext; user content is HTML-escaped.

Button presses are answered with alerts, which Telegram shows as plain text: those texts
are not escaped, and the prize is shortened to keep them within 200 characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from hearth.domain.draws import (
    MAX_ACTIVE_DAYS,
    MAX_WINNERS,
    AlreadyEntered,
    Draw,
    DrawSettled,
    DrawStatus,
    DrawUnavailable,
    InvalidDrawSpec,
    Problem,
    UnknownDraw,
)
from hearth.domain.errors import HearthError
from hearth.domain.events import local_time
from hearth.domain.members import CommunityProfile
from hearth.domain.points import NotEnoughPoints
from hearth.handlers import texts
from hearth.handlers.texts import TIER_NAMES, quote
from hearth.services.draws import Cancellation, DrawBoard, DrawView, EntryResult

ALERT_PRIZE = 60  # characters of the prize in an alert


def _when(moment: datetime, timezone: str) -> str:
    return local_time(moment, timezone).strftime("%Y-%m-%d %H:%M")


def _short(prize: str) -> str:
    return prize if len(prize) <= ALERT_PRIZE else prize[: ALERT_PRIZE - 1] + "…"


def _tier(name: str) -> str:
    return str(TIER_NAMES.get(name, name))


def _winners(count: int) -> str:
    return ngettext("{count} winner", "{count} winners", count).format(count=count)


def _cost(draw: Draw) -> str:
    if draw.cost == 0:
        return _("free to enter")
    return ngettext("{cost} point to enter", "{cost} points to enter", draw.cost).format(
        cost=draw.cost
    )


def conditions(draw: Draw, event_title: str | None) -> list[str]:
    """Who may enter, one line per condition; empty when every member may."""
    lines = []
    if draw.min_tier is not None:
        lines.append(_("are {tier} members or above").format(tier=_tier(draw.min_tier)))
    if draw.active_days is not None:
        lines.append(
            ngettext(
                "took part in the group in the last day",
                "took part in the group in the last {days} days",
                draw.active_days,
            ).format(days=draw.active_days)
        )
    if draw.event_id is not None:
        event = quote(event_title) if event_title else f"#{draw.event_id}"
        lines.append(_("attended the event {event}").format(event=event))
    return lines


def _summary(draw: Draw, timezone: str, event_title: str | None) -> list[str]:
    lines = [
        f"{_winners(draw.winners)} · {_cost(draw)}",
        _("Closes {when} ({timezone}).").format(
            when=_when(draw.closes_at, timezone), timezone=timezone
        ),
    ]
    rules = conditions(draw, event_title)
    if rules:
        lines.append(_("Open to members who: {conditions}.").format(conditions="; ".join(rules)))
    return lines


# -- the group


def announcement(draw: Draw, community: CommunityProfile, event_title: str | None) -> str:
    return "\n".join(
        [
            _("🎟 <b>Lucky draw #{number}</b>: {prize}").format(
                number=draw.id, prize=quote(draw.prize)
            ),
            "",
            *_summary(draw, community.timezone, event_title),
            "",
            _(
                "Tap Enter to take part, once. The winners are drawn at random from a recorded "
                "seed when the draw closes: anyone can check them with /draw {number}."
            ).format(number=draw.id),
        ]
    )


def enter_label(draw: Draw) -> str:
    if draw.cost == 0:
        return _("🎟 Enter")
    return _("🎟 Enter ({cost} points)").format(cost=draw.cost)


def enter_listed_label(draw: Draw) -> str:
    return _("🎟 Enter #{number} · {prize}").format(number=draw.id, prize=_short(draw.prize))


def _mention(member_id: int, name: str) -> str:
    return f'<a href="tg://user?id={member_id}">{quote(name or "?")}</a>'


def results(draw: Draw, community: CommunityProfile, winners: Sequence[tuple[int, str]]) -> str:
    lines = [
        _("🎉 <b>Lucky draw #{number}</b>: {prize}").format(
            number=draw.id, prize=quote(draw.prize)
        ),
        "",
    ]
    if not winners:
        lines.append(_("Nobody entered, so there is no winner this time."))
    else:
        lines.append(
            ngettext("The winner is {names}!", "The winners are {names}!", len(winners)).format(
                names=", ".join(_mention(member_id, name) for member_id, name in winners)
            )
        )
        lines.append(_("Congratulations! The team will be in touch."))
    lines += ["", _seed_line(draw)]
    return "\n".join(lines)


def _seed_line(draw: Draw) -> str:
    return _(
        "{entries} entered; drawn with the seed <code>{seed}</code>. /draw {number} checks it."
    ).format(entries=draw.entries, seed=draw.seed, number=draw.id)


def cancelled_in_group(draw: Draw) -> str:
    if draw.cost == 0:
        return _("❌ The lucky draw #{number} ({prize}) is cancelled.").format(
            number=draw.id, prize=quote(draw.prize)
        )
    return _(
        "❌ The lucky draw #{number} ({prize}) is cancelled. Every entry's points are refunded."
    ).format(number=draw.id, prize=quote(draw.prize))


# -- members in private


def won(draw: Draw, community: CommunityProfile) -> str:
    return _(
        "🎉 You won <b>{prize}</b> in the lucky draw of {community}! "
        "The team will contact you to hand it over."
    ).format(prize=quote(draw.prize), community=quote(community.title))


def refunded(draw: Draw, community: CommunityProfile, refund: int) -> str:
    text = _("The lucky draw for <b>{prize}</b> in {community} was cancelled.").format(
        prize=quote(draw.prize), community=quote(community.title)
    )
    if refund > 0:
        text += " " + _("Your {points} entry points are back.").format(points=refund)
    return text


def entered(result: EntryResult) -> str:
    """The alert after Enter (plain text)."""
    prize = _short(result.draw.prize)
    if result.paid == 0:
        return _("You are in the draw for {prize}. Good luck!").format(prize=prize)
    return _(
        "You are in the draw for {prize}. {paid} points paid, {balance} left. Good luck!"
    ).format(prize=prize, paid=result.paid, balance=result.balance)


def refusal(error: HearthError) -> str:
    """Why a member's entry or an operator's request was refused; nothing was changed."""
    if isinstance(error, AlreadyEntered):
        return _("You are already in this draw: one entry each. Good luck!")
    if isinstance(error, NotEnoughPoints):
        return _("Entering costs {cost} points and you have {balance}. Nothing was taken.").format(
            cost=error.wanted, balance=error.balance
        )
    if isinstance(error, DrawUnavailable):
        return _unavailable(error)
    if isinstance(error, UnknownDraw):
        return _("There is no draw #{number} in your communities.").format(number=error.draw_id)
    if isinstance(error, DrawSettled):
        return _("Draw #{number} is drawn already; it can no longer be cancelled.").format(
            number=error.draw.id
        )
    if isinstance(error, InvalidDrawSpec):
        return invalid_draw(error)
    return texts.something_went_wrong()


def _unavailable(error: DrawUnavailable) -> str:
    problem, draw = error.problem, error.draw
    if problem is Problem.NOT_A_MEMBER:
        return _("This draw belongs to a community you are not a member of.")
    if problem is Problem.CANCELLED:
        return _("This draw was cancelled.")
    if problem is Problem.TIER_TOO_LOW and draw is not None:
        return _("This draw is for {tier} members and above.").format(
            tier=_tier(draw.min_tier or "")
        )
    if problem is Problem.NOT_ACTIVE and draw is not None:
        return ngettext(
            "This draw is for members who took part in the group in the last day.",
            "This draw is for members who took part in the group in the last {days} days.",
            draw.active_days or 0,
        ).format(days=draw.active_days)
    if problem is Problem.NOT_ATTENDED:
        return _("This draw is for members who attended the event it names.")
    return _("This draw is closed.")


def board(listing: DrawBoard) -> str:
    """/draws."""
    title = quote(listing.community.title)
    if not listing.draws:
        return _("No lucky draws are open in {title} right now.").format(title=title)
    lines = [_("🎟 <b>Lucky draws in {title}</b>").format(title=title), ""]
    for draw in listing.draws:
        line = _("#{number} <b>{prize}</b>").format(number=draw.id, prize=quote(draw.prize))
        if draw.id in listing.entered:
            line += " · " + _("✅ you are in")
        lines.append(line)
        lines += [
            "  " + each for each in _summary(draw, listing.community.timezone, event_title=None)
        ]
        lines.append("  " + _("Entries so far: {count}.").format(count=draw.entries))
    if listing.enterable:
        lines += ["", _("Tap a draw to enter it.")]
    return "\n".join(lines)


def view(shown: DrawView) -> str:
    """/draw N."""
    draw, timezone = shown.draw, shown.community.timezone
    lines = [
        _("🎟 <b>Lucky draw #{number}</b> in {title}: {prize}").format(
            number=draw.id, title=quote(shown.community.title), prize=quote(draw.prize)
        ),
        "",
        *_summary(draw, timezone, shown.event_title),
        _("Entries: {count}.").format(count=draw.entries),
    ]
    if shown.entered:
        lines.append(_("✅ You are in this draw."))
    if draw.status is DrawStatus.OPEN:
        lines.append(_("Open for entries."))
    elif draw.status is DrawStatus.CANCELLED:
        lines.append(_("❌ Cancelled; every entry's points were refunded."))
    else:
        lines += ["", *_outcome(shown)]
    return "\n".join(lines)


def _outcome(shown: DrawView) -> list[str]:
    draw = shown.draw
    if shown.winners:
        names = ", ".join(quote(name or "?") for _id, name in shown.winners)
        lines = [_("🎉 Winners, in the order drawn: {names}.").format(names=names)]
    else:
        lines = [_("Nobody entered, so there is no winner.")]
    lines.append(_("Seed: <code>{seed}</code>").format(seed=draw.seed))
    lines.append(
        _(
            "How it is drawn: the entrants sorted by their Telegram id, then Python's "
            "random.Random(seed).sample picks the winners."
        )
    )
    verification = shown.verification
    if verification is not None and verification.matches:
        lines.append(_("✅ Drawn again from the seed just now: the same winners."))
    elif verification is not None:
        lines.append(_("⚠️ Drawn again from the seed just now, the winners differ!"))
    return lines


# -- operators


def new_draw_usage() -> str:
    return "\n".join(
        [
            _(
                "Usage: /draw_new WINNERS COST|free YYYY-MM-DD HH:MM PRIZE — the closing time "
                "on the community's clock. Options: tier=silver|gold|platinum, active=DAYS "
                "(took part in the last DAYS days), event=NUMBER (attended that event)."
            ),
            _("Example: /draw_new 3 50 2026-04-01 20:00 Two track-day tickets active=30"),
        ]
    )


def invalid_draw(error: InvalidDrawSpec) -> str:
    parts = {
        "winners": _("The number of winners must be a whole number from 1 to {most}.").format(
            most=MAX_WINNERS
        ),
        "cost": _("The cost must be a whole number of points, or “free”."),
        "day": _("The closing day must be written YYYY-MM-DD."),
        "time": _("The closing time must be written HH:MM."),
        "past": _("The closing time has already passed."),
        "too_far": _("The closing time must be within a year."),
        "prize": _("The prize must have 1 to 100 characters."),
        "tier": _("tier= must be one of silver, gold or platinum."),
        "active": _("active= must be a number of days from 1 to {most}.").format(
            most=MAX_ACTIVE_DAYS
        ),
        "event": _("event= must be the number of one of this community's events."),
        "flag": _("I do not know the option {option}.").format(option=quote(error.value)),
    }
    reason = parts.get(error.part)
    return "\n".join([reason, "", new_draw_usage()]) if reason else new_draw_usage()


def created(draw: Draw, community: CommunityProfile) -> str:
    return "\n".join(
        [
            _("Lucky draw #{number} for {prize} is open in {title}.").format(
                number=draw.id, prize=quote(draw.prize), title=quote(community.title)
            ),
            _(
                "It is announced in the group with an Enter button. /draw {number} shows it; "
                "/draw_cancel {number} calls it off and refunds the entries."
            ).format(number=draw.id),
        ]
    )


def draw_usage() -> str:
    return _("Usage: /draw NUMBER. /draws lists the open draws.")


def cancel_usage() -> str:
    return _("Usage: /draw_cancel NUMBER")


def cancelled(result: Cancellation) -> str:
    number = result.draw.id
    if result.replayed:
        return _("Draw #{number} was cancelled already.").format(number=number)
    return _(
        "Draw #{number} is cancelled: {points} points refunded over {entrants} entries. "
        "The group and the entrants who started the bot are told."
    ).format(number=number, entrants=result.entrants, points=result.refunded)
