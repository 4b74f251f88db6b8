"""Texts of /member, the operators' member card, through gettext; names are HTML-escaped.

Days are the community's local days, written ``YYYY-MM-DD``. Stage and segment names are
the ones /segments uses.
"""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext

from hearth.domain.activity import ActivityKind
from hearth.domain.calendar import local_day
from hearth.domain.lifecycle import Activation, StageChange
from hearth.handlers.nudges_texts_admin import member_line
from hearth.handlers.segments_texts import HIGH_VALUE, listed, segment_name, stage_name
from hearth.handlers.texts import quote, tier_name
from hearth.services.member_card import REMINDER_KINDS, MemberCard

FIRST_ACTIONS = {
    ActivityKind.CHECKIN: __("check-in"),
    ActivityKind.QUIZ_ANSWER: __("quiz answer"),
    ActivityKind.RSVP: __("event registration"),
}
ACTIVATIONS = {
    Activation.ACTIVATED: __("activated"),
    Activation.LATE: __("activated late"),
    Activation.PENDING: __("not yet (still within the first week)"),
    Activation.MISSED: __("not activated"),
}
REMINDER_NAMES = {
    "checkin_reminder": __("check-in"),
    "expiry_reminder": __("points expiry"),
    "event_reminder": __("event"),
}


def usage() -> str:
    return _(
        "Usage: /member @username|id, or reply to the member's message in the group with /member"
    )


def card(member: MemberCard) -> str:
    """The whole card: who, lifecycle and RFM, taking part."""
    return "\n".join(
        [*_who(member), "", *_standing(member), "", *_taking_part(member), *_reminders(member)]
    )


def _who(member: MemberCard) -> list[str]:
    record, timezone = member.record, member.community.timezone
    heading = f"<b>{quote(record.name or str(record.member_id))}</b>"
    if record.handle:
        heading += f" {quote(record.handle)}"
    lines = [
        f"{heading} · id <code>{record.member_id}</code>",
        quote(member.community.title),
        _joined(record.joined_at, member.join_count, timezone),
    ]
    if record.left_at is not None:
        lines.append(_("Left: {day}").format(day=_day(record.left_at, timezone)))
    if record.forgotten:
        lines.append(_("🕳 Erased their personal data at their request."))
    return lines


def _joined(joined_at: datetime, join_count: int, timezone: str) -> str:
    day = _day(joined_at, timezone)
    if join_count <= 1:
        return _("Joined: {day}").format(day=day)
    return ngettext(
        "Joined: {day} (came back {count} time)",
        "Joined: {day} (came back {count} times)",
        join_count - 1,
    ).format(day=day, count=join_count - 1)


def _standing(member: MemberCard) -> list[str]:
    standing = member.record.standing
    lines = [_("<b>Lifecycle and value</b>")]
    if standing is None:
        lines.append(
            _("Not computed yet: stages and segments are recomputed every night (after 03:00).")
        )
    else:
        lines.append(
            _("Stage: {stage} since {day}").format(
                stage=stage_name(standing.stage), day=standing.since.isoformat()
            )
        )
    if member.changes:
        lines.append(
            _("Stage changes: {changes}").format(
                changes="; ".join(_change(change) for change in member.changes)
            )
        )
    if standing is not None and standing.segment is not None:
        segment = segment_name(standing.segment)
        if standing.segment_since is not None:
            segment = _("{segment} since {day}").format(
                segment=segment, day=standing.segment_since.isoformat()
            )
        rfm = _("RFM: R{recency} F{frequency} M{value} · {segment}").format(
            recency=standing.recency, frequency=standing.frequency, value=standing.value,
            segment=segment,
        )  # fmt: skip
        if standing.high_value:
            rfm += " · " + _("{mark} high value").format(mark=HIGH_VALUE)
        lines.append(rfm)
    tags = member.record.tags
    lines.append(_("Tags: {tags}").format(tags=listed(tags) if tags else "—"))
    return lines


def _change(change: StageChange) -> str:
    """ "2026-02-10 New → Growing", or "2026-01-05 New" for a first stage."""
    reached = stage_name(change.new)
    moved = reached if change.old is None else f"{stage_name(change.old)} → {reached}"
    return f"{change.on.isoformat()} {moved}"


def _taking_part(member: MemberCard) -> list[str]:
    record, timezone = member.record, member.community.timezone
    lines = [
        _("<b>Taking part</b>"),
        _("Tier: {tier} · Balance: {balance} points · Streak: {streak}").format(
            tier=tier_name(member.tier),
            balance=record.balance,
            streak=ngettext("{days} day", "{days} days", member.streak).format(days=member.streak),
        ),
        _last_active(member),
        _activation(member, timezone),
        _("Events: {registered} registered, {attended} attended").format(
            registered=member.registered, attended=member.attended
        ),
    ]
    if member.last_attended is not None:
        lines[-1] += _("; last: {title} ({day})").format(
            title=quote(member.last_attended.title),
            day=_day(member.last_attended.starts_at, timezone),
        )
    lines.append(
        _("Quiz: {answered} answered, {right} right").format(
            answered=member.quiz_answered, right=member.quiz_right
        )
    )
    return lines


def _last_active(member: MemberCard) -> str:
    last = member.record.last_active_on
    if last is None:
        return _("Last active: never")
    days = member.idle_days or 0
    if days == 0:
        return _("Last active: today ({day})").format(day=last.isoformat())
    return ngettext(
        "Last active: {day}, {days} day ago", "Last active: {day}, {days} days ago", days
    ).format(day=last.isoformat(), days=days)


def _activation(member: MemberCard, timezone: str) -> str:
    status = str(ACTIVATIONS[member.activation])
    first = member.first_action
    if first is None:
        return _("Activation: {status}").format(status=status)
    return ngettext(
        "Activation: {status} — first {action} on {day}, {days} day after joining",
        "Activation: {status} — first {action} on {day}, {days} days after joining",
        member.days_to_activation or 0,
    ).format(
        status=status,
        action=FIRST_ACTIONS.get(first.kind, first.kind.value),
        day=_day(first.occurred_at, timezone),
        days=member.days_to_activation or 0,
    )


def _reminders(member: MemberCard) -> list[str]:
    """Reminders delivered in private in the last 90 days, and the nudges received."""
    nudges = (
        [] if member.nudges is None else [member_line(member.nudges, member.community.timezone)]
    )
    if not member.reminders:
        return [_("Reminders received (90 days): none"), *nudges]
    counts = ", ".join(
        f"{REMINDER_NAMES[kind]} {member.reminders[kind]}"
        for kind in REMINDER_KINDS
        if kind in member.reminders
    )
    return [_("Reminders received (90 days): {counts}").format(counts=counts), *nudges]


def _day(instant: datetime, timezone: str) -> str:
    return local_day(instant, timezone).isoformat()
