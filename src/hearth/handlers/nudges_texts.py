"""What a member reads of nudges: the nudge itself, its buttons' labels, /settings' lines and
the replies to a tap. Through gettext; every fact is HTML-escaped.

A nudge is warm and short and says only what is true: each built-in text of a kind needs
some facts (``_NEEDS``); when one is missing the kind's plain text is used instead. An
operator's template is escaped as a whole (it is plain text, not HTML) and filled with the
escaped facts; one that cannot be filled falls back to the built-in text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from hearth.domain.events import local_time
from hearth.domain.nudges import (
    BUILTIN_VARIANTS,
    COMEBACK_VALID_DAYS,
    OFFER_VALID_DAYS,
    NudgeKind,
    NudgeMessage,
    NudgePreference,
    QuietHours,
)
from hearth.handlers.texts import quote
from hearth.services.nudge_choices import OfferAfterLeaving, OfferExpired

RENDERED_LIMIT = 3000  # characters of a filled custom template; longer falls back (Telegram: 4096)
STREAK_MENTIONED_FROM = 2  # a best streak shorter than this is not worth a mention

Facts = Mapping[str, str | None]


def nudge_text(community_title: str, name: str, message: NudgeMessage, timezone: str) -> str:
    """The nudge as the member reads it: the text of its template, then how to stop them."""
    facts = _facts(community_title, name, message, timezone)
    body = _custom(message.custom_text, facts) if message.custom_text is not None else None
    if body is None:
        body = _builtin(message.kind, _variant(message.template), facts, message)
    return f"{body}\n\n<i>{stop_hint()}</i>"


def stop_hint() -> str:
    return _("Not the right time? Tap “Stop these messages” below, or change it in /settings.")


def _facts(community_title: str, name: str, message: NudgeMessage, timezone: str) -> Facts:
    """Every template field, HTML-escaped; None when the fact is not there to mention."""
    facts = message.facts
    event_date: str | None = None
    if message.kind is NudgeKind.EVENT and facts.event is not None:
        event_date = _moment(facts.event.starts_at, timezone)
    elif message.kind is NudgeKind.EXPIRING and facts.expiring_on is not None:
        event_date = _day(facts.expiring_on)
    days = COMEBACK_VALID_DAYS if message.kind is NudgeKind.COMEBACK else message.days_away
    has_points = facts.expiring_points > 0 and facts.expiring_on is not None
    return {
        "name": quote(name),
        "community": quote(community_title),
        "days": str(days) if days > 0 else None,
        "streak": str(facts.best_streak) if facts.best_streak >= STREAK_MENTIONED_FROM else None,
        "event": quote(facts.event.title) if facts.event is not None else None,
        "date": event_date,
        "points": str(facts.expiring_points) if has_points else None,
        "topic": quote(facts.quiz_topic) if facts.quiz_topic else None,
        "bonus": str(message.bonus) if message.bonus > 0 else None,
    }


def _moment(instant: datetime, timezone: str) -> str:
    return local_time(instant, timezone).strftime("%Y-%m-%d %H:%M")


def _day(day: date) -> str:
    return day.isoformat()


def _variant(template: str) -> int:
    """The built-in variant a template id names ("streak:2" → 2); 0 for anything else."""
    _kind, _sep, index = template.partition(":")
    if index.isascii() and index.isdigit() and int(index) < BUILTIN_VARIANTS:
        return int(index)
    return 0


def _custom(text: str, facts: Facts) -> str | None:
    """An operator's template filled with the facts, or None when it cannot be."""
    values = {field: value for field, value in facts.items() if value is not None}
    try:
        filled = quote(text).format_map(values)
    except (KeyError, ValueError, IndexError, AttributeError):
        return None  # a fact it needs is missing, or the template is malformed
    return filled if filled.strip() and len(filled) <= RENDERED_LIMIT else None


# Facts each kind's built-in variants mention; without them the kind's plain text is used.
_NEEDS: Mapping[NudgeKind, tuple[str, ...]] = {
    NudgeKind.LIGHT: (),
    NudgeKind.STREAK: ("streak",),
    NudgeKind.EVENT: ("event", "date"),
    NudgeKind.EXPIRING: ("points", "date"),
    NudgeKind.QUIZ: ("topic",),
    NudgeKind.COMEBACK: ("bonus", "days"),
}


def _builtin(kind: NudgeKind, variant: int, facts: Facts, message: NudgeMessage) -> str:
    if any(facts[field] is None for field in _NEEDS[kind]):
        return _PLAIN[kind]().format_map(facts)
    count = message.facts.expiring_points if kind is NudgeKind.EXPIRING else message.bonus
    return _VARIANTS[kind](count)[variant].format_map(facts)


def _light(_count: int) -> tuple[str, ...]:
    return (
        _(
            "Hi {name}! <b>{community}</b> has been a little quieter without you. Drop by and "
            "say hello whenever you like."
        ),
        _(
            "Hello {name}, a friendly wave from <b>{community}</b>. We would be glad to see you "
            "again — a check-in takes one tap."
        ),
        _(
            "{name}, we hope all is well! Whenever you feel like it, <b>{community}</b> is here "
            "— pop in and see what is new."
        ),
    )


def _streak(_count: int) -> tuple[str, ...]:
    return (
        _(
            "Hi {name}! You once kept a {streak}-day check-in streak in <b>{community}</b>. "
            "Fancy starting a new one today?"
        ),
        _(
            "{name}, your best streak in <b>{community}</b> is {streak} days. One check-in "
            "today starts the next one."
        ),
        _(
            "Hello {name}! A {streak}-day streak in <b>{community}</b> was all yours. Day one "
            "of the next is a single tap away."
        ),
    )


def _event(_count: int) -> tuple[str, ...]:
    return (
        _(
            "Hi {name}! <b>{community}</b> has <b>{event}</b> coming up on {date}. It would be "
            "lovely to see you there."
        ),
        _(
            "{name}, save the date: <b>{event}</b>, {date}, with <b>{community}</b>. Tap below "
            "for the details and let us know if you can come."
        ),
        _(
            "Hello {name}! Something is happening in <b>{community}</b>: <b>{event}</b> on "
            "{date}. Come along if you can!"
        ),
    )


def _expiring(points: int) -> tuple[str, ...]:
    return (
        ngettext(
            "Hi {name}! {points} of your points in <b>{community}</b> expires on {date}. "
            "Perhaps there is a reward you would enjoy?",
            "Hi {name}! {points} of your points in <b>{community}</b> expire on {date}. "
            "Perhaps there is a reward you would enjoy?",
            points,
        ),
        ngettext(
            "{name}, a friendly heads-up: {points} point of yours in <b>{community}</b> is "
            "valid until {date}. Treat yourself before then!",
            "{name}, a friendly heads-up: {points} points of yours in <b>{community}</b> are "
            "valid until {date}. Treat yourself before then!",
            points,
        ),
        ngettext(
            "Hello {name}! Your points in <b>{community}</b> are worth a look: {points} of "
            "them expires on {date}.",
            "Hello {name}! Your points in <b>{community}</b> are worth a look: {points} of "
            "them expire on {date}.",
            points,
        ),
    )


def _quiz(_count: int) -> tuple[str, ...]:
    return (
        _(
            "Hi {name}! You have played <b>{topic}</b> questions in <b>{community}</b> before "
            "— fancy a quick practice quiz?"
        ),
        _(
            "{name}, how about a little brain teaser? <b>{community}</b> has practice "
            "questions waiting, on <b>{topic}</b> and more."
        ),
        _(
            "Hello {name}! Quiz time in <b>{community}</b>: test yourself with a practice "
            "question — <b>{topic}</b> was one of your topics."
        ),
    )


def _comeback(bonus: int) -> tuple[str, ...]:
    return (
        ngettext(
            "Hi {name}! We would love to have you back in <b>{community}</b>, so here is a "
            "welcome-back gift: {bonus} point, valid for {days} days. Tap below to claim it.",
            "Hi {name}! We would love to have you back in <b>{community}</b>, so here is a "
            "welcome-back gift: {bonus} points, valid for {days} days. Tap below to claim them.",
            bonus,
        ),
        ngettext(
            "{name}, a little something from <b>{community}</b>: {bonus} point is yours to "
            "claim, to spend within {days} days. No strings attached.",
            "{name}, a little something from <b>{community}</b>: {bonus} points are yours to "
            "claim, to spend within {days} days. No strings attached.",
            bonus,
        ),
        ngettext(
            "Hello {name}! <b>{community}</b> kept {bonus} comeback point for you — claim it "
            "and it stays valid for {days} days.",
            "Hello {name}! <b>{community}</b> kept {bonus} comeback points for you — claim them "
            "and they stay valid for {days} days.",
            bonus,
        ),
    )


# Each kind's built-in texts, given the count their plural follows (points, bonus).
_VARIANTS: Mapping[NudgeKind, Callable[[int], tuple[str, ...]]] = {
    NudgeKind.LIGHT: _light,
    NudgeKind.STREAK: _streak,
    NudgeKind.EVENT: _event,
    NudgeKind.EXPIRING: _expiring,
    NudgeKind.QUIZ: _quiz,
    NudgeKind.COMEBACK: _comeback,
}

# The plain text of each kind, for when a fact its variants mention is missing.
_PLAIN: Mapping[NudgeKind, Callable[[], str]] = {
    NudgeKind.LIGHT: lambda: _light(0)[0],
    NudgeKind.STREAK: lambda: _(
        "Hi {name}! A check-in streak in <b>{community}</b> starts with a single tap — "
        "today could be day one."
    ),
    NudgeKind.EVENT: lambda: _(
        "Hi {name}! <b>{community}</b> has events coming up. Have a look — it would be lovely "
        "to see you there."
    ),
    NudgeKind.EXPIRING: lambda: _(
        "Hi {name}! Have a look at the rewards in <b>{community}</b> — there may be one you "
        "would enjoy."
    ),
    NudgeKind.QUIZ: lambda: _(
        "Hi {name}! <b>{community}</b> has practice quiz questions waiting — fancy a quick one?"
    ),
    NudgeKind.COMEBACK: lambda: _light(0)[1],
}


# -- buttons


def button_check_in() -> str:
    return _("Check in now")


def button_see_event() -> str:
    return _("See event")


def button_spend() -> str:
    return _("Spend my points")


def button_quiz() -> str:
    return _("Play a quiz")


def button_claim(bonus: int) -> str:
    return ngettext("Claim {bonus} point", "Claim {bonus} points", bonus).format(bonus=bonus)


def button_stop() -> str:
    return _("Stop these messages")


def button_undo() -> str:
    return _("Undo")


def button_switch(enabled: bool) -> str:
    """The /settings button that turns nudges the other way."""
    return _("🔕 Turn nudges off") if enabled else _("🔔 Turn nudges on")


def button_quiet(quiet: QuietHours, current: bool) -> str:
    return f"✓ 🌙 {quiet.label}" if current else f"🌙 {quiet.label}"


# -- /settings


def settings_lines(preference: NudgePreference) -> str:
    """The nudge part of /settings, under the language."""
    switch = (
        _("🔔 Nudges — a friendly word now and then when you have been away: <b>on</b>")
        if preference.enabled
        else _("🔔 Nudges — a friendly word now and then when you have been away: <b>off</b>")
    )
    return "\n".join(
        [
            switch,
            _("🌙 Quiet hours, when I send no nudges: {hours} (your community's time)").format(
                hours=preference.quiet.label
            ),
        ]
    )


def switched(enabled: bool) -> str:
    if enabled:
        return _("Nudges are on. I will write only now and then, never in your quiet hours.")
    return _("Nudges are off. I will not write to you about being away.")


def quiet_hours_set(quiet: QuietHours) -> str:
    return _("Quiet hours: {hours}. I will send you no nudges then.").format(hours=quiet.label)


# -- replies to a tap on a nudge


def stopped() -> str:
    return _(
        "Done — no more of these messages. If you change your mind, tap “Undo” or turn them "
        "on again in /settings."
    )


def undone() -> str:
    return _("They are back on. I will write only now and then, never in your quiet hours.")


def claimed(points: int, community_title: str, until: date) -> str:
    return ngettext(
        "🎁 Welcome back! {points} point is yours in <b>{community}</b>, valid until {date}.",
        "🎁 Welcome back! {points} points are yours in <b>{community}</b>, valid until {date}.",
        points,
    ).format(points=points, community=quote(community_title), date=_day(until))


def already_claimed() -> str:
    return _("You have claimed this gift already — enjoy it!")


def offer_closed(refusal: OfferExpired | OfferAfterLeaving) -> str:
    """Why a comeback gift can no longer be claimed."""
    if isinstance(refusal, OfferExpired):
        return ngettext(
            "This welcome-back gift could be claimed for {days} day after I sent it, and that "
            "time is over.",
            "This welcome-back gift could be claimed for {days} days after I sent it, and that "
            "time is over.",
            OFFER_VALID_DAYS,
        ).format(days=OFFER_VALID_DAYS)
    return _("This welcome-back gift is for members of the community, and you have left it.")
