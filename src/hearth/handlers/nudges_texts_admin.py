"""Texts of ``/nudges``, the operators' side of reactivation nudges: the report with the
measured uplift, today's preview, the settings and templates, and the member card's line.

Through gettext; names and template texts are HTML-escaped. Times are the community's
local time. Command words (``pause``, ``streak``…) stay in English: they are what to type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext

from hearth.domain.events import local_time
from hearth.domain.nudges import (
    EPISODE_LIMIT,
    RETURN_WINDOW_DAYS,
    TEMPLATE_LIMIT,
    KindOutcome,
    NudgeKind,
    NudgeSettings,
    NudgeStatus,
    NudgeTemplate,
    ReturnRate,
    SkipReason,
    Uplift,
    return_rate,
)
from hearth.handlers.segments_texts import more, short_name, stage_name
from hearth.handlers.texts import quote
from hearth.services.nudge_admin import (
    MAX_DAILY_CAP,
    MAX_HOLDOUT_PERCENT,
    MAX_REPORT_DAYS,
    MIN_MATURED,
    BadTemplate,
    MemberNudges,
    NudgeReport,
    Verdict,
    allowed_fields,
)
from hearth.services.nudges import NudgePreview, PreviewLine

SHOWN_PER_LIST = 25  # members listed per part of the preview; the rest are counted

KIND_NAMES = {
    NudgeKind.LIGHT: __("Light reminder"),
    NudgeKind.STREAK: __("Restart the streak"),
    NudgeKind.EVENT: __("Upcoming event"),
    NudgeKind.EXPIRING: __("Points expiring"),
    NudgeKind.QUIZ: __("Favourite quiz"),
    NudgeKind.COMEBACK: __("Comeback bonus"),
}
REASON_NAMES = {
    SkipReason.NOT_DRIFTING: __("not drifting away"),
    SkipReason.LEFT: __("left the group"),
    SkipReason.NOT_STARTED: __("never started the bot"),
    SkipReason.UNREACHABLE: __("cannot be written to"),
    SkipReason.OPTED_OUT: __("turned nudges off"),
    SkipReason.ACTIVE_TODAY: __("already active today"),
    SkipReason.TOO_SOON: __("nudged less than 7 days ago"),
    SkipReason.EPISODE_DONE: __("3 nudges already: stopped"),
    SkipReason.NO_TIME: __("quiet hours all day"),
    SkipReason.DAILY_CAP: __("daily cap reached"),
    SkipReason.PAUSED: __("paused"),
    SkipReason.LATE: __("could not be sent in time"),
}


def kind_name(kind: NudgeKind) -> str:
    return str(KIND_NAMES[kind])


def reason_name(reason: SkipReason) -> str:
    return str(REASON_NAMES[reason])


def kinds() -> str:
    """The kinds as they are typed: ``light, streak, event, expiring, quiz, comeback``."""
    return ", ".join(kind.value for kind in NudgeKind)


# -- usage and bad input


def usage() -> str:
    return _(
        "Usage: /nudges [days] for the report (default 90); /nudges preview; /nudges pause or "
        "/nudges resume; /nudges cap N; /nudges holdout P; /nudges templates; "
        "/nudges template kind text; /nudges template_remove number."
    )


def bad_days() -> str:
    return _("The report covers 1 to {most} days: /nudges 30, for example.").format(
        most=MAX_REPORT_DAYS
    )


def bad_cap() -> str:
    return _(
        "The daily cap is a whole number from 0 to {most}: /nudges cap 50, for example."
    ).format(most=MAX_DAILY_CAP)


def bad_holdout() -> str:
    return _(
        "The holdout is a share from 0 to {most} percent: /nudges holdout 10, for example."
    ).format(most=MAX_HOLDOUT_PERCENT)


def unknown_kind(word: str) -> str:
    return _("“{word}” is not a kind of nudge. Kinds: {kinds}.").format(
        word=quote(word), kinds=kinds()
    )


def template_usage() -> str:
    return _(
        "Usage: /nudges template kind text, for example: /nudges template light "
        "Hello, we miss you! Kinds: {kinds}. /nudges templates lists the placeholders."
    ).format(kinds=kinds())


def remove_usage() -> str:
    return _("Usage: /nudges template_remove number (the number /nudges templates shows).")


def template_in_group() -> str:
    return _("You operate several communities: send /nudges template in the group it is for.")


def bad_template(error: BadTemplate) -> str:
    """Why an operator's template was refused, with the placeholders the kind allows."""
    allowed = placeholders(error.allowed)
    if error.problem == "unknown":
        return ngettext(
            "Unknown placeholder {unknown}. {kind} templates may use: {allowed}.",
            "Unknown placeholders {unknown}. {kind} templates may use: {allowed}.",
            len(error.unknown),
        ).format(
            unknown=quote(placeholders(error.unknown)),
            kind=kind_name(error.kind),
            allowed=allowed,
        )
    if error.problem == "empty":
        return template_usage()
    if error.problem == "too_long":
        return _("That template is too long: keep it under {most} characters.").format(
            most=TEMPLATE_LIMIT
        )
    return _(
        "Braces are only for placeholders, and each one must be closed. "
        "{kind} templates may use: {allowed}."
    ).format(kind=kind_name(error.kind), allowed=allowed)


def unknown_template(template_id: int) -> str:
    return _(
        "This community has no template number {number}; /nudges templates lists them."
    ).format(number=template_id)


def placeholders(names: Sequence[str]) -> str:
    """``{name}, {community}, {streak}``: written as the operator types them."""
    return ", ".join("{" + name + "}" for name in names)


# -- changes


def paused(is_paused: bool) -> str:
    if is_paused:
        return _("Nudges are paused for this community: none will be sent until /nudges resume.")
    return _("Nudges are on again for this community.")


def cap_set(cap: int) -> str:
    if cap == 0:
        return _("Daily cap set to 0: no nudge will be sent until you raise it.")
    return ngettext(
        "At most {count} nudge will be sent per day.",
        "At most {count} nudges will be sent per day.",
        cap,
    ).format(count=cap)


def holdout_set(percent: int) -> str:
    if percent == 0:
        return _("No holdout from now on: every eligible member is nudged, and the uplift "
                 "can no longer be measured.")  # fmt: skip
    return _(
        "From now on {percent}% of the members who drift away get no nudge, so that the "
        "uplift is measured."
    ).format(percent=percent)


def template_added(template: NudgeTemplate) -> str:
    return _(
        "Template {number} added: {kind} nudges now use this community's templates instead "
        "of the built-in texts.\n{text}"
    ).format(number=template.id, kind=kind_name(template.kind), text=quote(template.text))


def template_removed(template_id: int) -> str:
    return _("Template {number} removed.").format(number=template_id)


def templates_text(title: str, templates: Sequence[NudgeTemplate]) -> str:
    """The community's templates, then how to add or remove one and the placeholders."""
    lines = [_("<b>Nudge templates of {title}</b>").format(title=quote(title))]
    if templates:
        lines += [
            f"<b>{template.id}</b> · {kind_name(template.kind)} ({template.kind.value}): "
            f"{quote(template.text)}"
            for template in templates
        ]
    else:
        lines.append(_("None of your own: every nudge uses the built-in texts."))
    lines += [
        "",
        _(
            "A kind with templates of its own uses them instead of the built-in texts. "
            "Add one: /nudges template kind text. Remove one: /nudges template_remove number."
        ),
        _("<b>Placeholders per kind</b>"),
    ]
    lines += [f"{kind.value} — {quote(placeholders(allowed_fields(kind)))}" for kind in NudgeKind]
    return "\n".join(lines)


# -- the report


def report_text(report: NudgeReport) -> str:
    """Sent, clicked and opted out; the return rates of nudged and held-out members with
    the uplift and a verdict; then per kind."""
    sent = report.sent
    lines = [
        _("<b>Nudges in {title}</b>").format(title=quote(report.community.title)),
        _("Last {days} days: {first} – {last}").format(
            days=report.days, first=report.since.isoformat(), last=report.today.isoformat()
        ),
        settings_line(report.settings),
        "",
        _("Sent: {sent} · clicked: {clicked} · turned nudges off: {opted_out} ({rate})").format(
            sent=sent.contacts,
            clicked=sent.clicked,
            opted_out=sent.opted_out,
            rate=percent(report.opt_out_rate),
        ),
        _("Today: {count} planned or sent, {waiting} still to send").format(
            count=report.planned_today, waiting=report.outcomes.planned
        ),
        skipped_line(report.outcomes.skipped),
        "",
        _(
            "<b>Did they come back?</b> (members who took part within {days} days of a contact "
            "whose {days} days are over; each member once, in the group of their first contact)"
        ).format(days=RETURN_WINDOW_DAYS),
        _("Nudged: {rate}").format(rate=rate_text(report.nudged)),
        _("Holdout (got nothing): {rate}").format(rate=rate_text(report.holdout)),
    ]
    if report.nudged.waiting or report.holdout.waiting:
        lines.append(waiting_text(report.nudged, report.holdout))
    if report.uplift is not None:
        lines.append(uplift_text(report.uplift))
    lines.append(verdict_text(report.verdict, report.settings))
    lines += ["", _("<b>By kind</b>")]
    lines += [kind_line(row) for row in report.by_kind] or [_("No nudge sent yet.")]
    return "\n".join(lines)


def settings_line(settings: NudgeSettings) -> str:
    state = _("paused") if settings.paused else _("on")
    return _("Nudges: {state} · daily cap {cap} · holdout {holdout}%").format(
        state=state, cap=settings.daily_cap, holdout=settings.holdout_percent
    )


def skipped_line(skipped: Mapping[SkipReason, int]) -> str:
    if not skipped:
        return _("Skipped: none")
    counts = ", ".join(
        f"{reason_name(reason)} {count}"
        for reason, count in sorted(skipped.items(), key=lambda item: (-item[1], item[0].value))
    )
    return _("Skipped: {counts}").format(counts=counts)


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def rate_text(rate: ReturnRate) -> str:
    """ "12 of 40, 30%", or "none yet"."""
    if not rate.matured:
        return _("no member whose {days} days are over yet").format(days=RETURN_WINDOW_DAYS)
    return _("{returned} of {contacts}, {rate}").format(
        returned=rate.returned, contacts=rate.matured, rate=percent(rate.rate)
    )


def waiting_text(nudged: ReturnRate, holdout: ReturnRate) -> str:
    """Members contacted so recently that their outcome is not known yet."""
    return _(
        "Still within their {days} days, not counted yet: {nudged} nudged, {holdout} held out"
    ).format(days=RETURN_WINDOW_DAYS, nudged=nudged.waiting, holdout=holdout.waiting)


def uplift_text(measured: Uplift) -> str:
    """The difference in percentage points with its 95% interval."""
    return _("Uplift: {difference} points (95% interval {low} to {high})").format(
        difference=points(measured.difference),
        low=points(measured.low),
        high=points(measured.high),
    )


def points(share: float) -> str:
    """A difference of shares as signed percentage points: ``+15.0``, ``−4.2``."""
    value = round(share * 100, 1)
    return f"{value:+.1f}".replace("-", "−")


def verdict_text(verdict: Verdict, settings: NudgeSettings) -> str:
    if verdict is Verdict.TOO_FEW:
        if settings.holdout_percent == 0:
            return _(
                "The holdout is 0%: without members who get nothing the effect cannot be "
                "measured (/nudges holdout 10)."
            )
        return _(
            "Too few members yet to tell: each group needs {count} whose {days} days are over."
        ).format(count=MIN_MATURED, days=RETURN_WINDOW_DAYS)
    if verdict is Verdict.HELPS:
        return _("Nudges bring members back: nudged members return more often than the holdout.")
    if verdict is Verdict.HURTS:
        return _(
            "Nudged members return less often than the holdout: consider rewording the "
            "templates or pausing nudges."
        )
    return _("No measurable effect: the difference could be chance.")


def kind_line(row: KindOutcome) -> str:
    assert row.kind is not None
    return _("{kind}: {sent} sent, {clicked} clicked, {returned} returned").format(
        kind=kind_name(row.kind),
        sent=row.contacts,
        clicked=row.clicked,
        returned=percent(return_rate(row).rate),
    )


# -- the preview


def preview_text(title: str, preview: NudgePreview, timezone: str) -> str:
    """Who would be nudged today and why, who is held out or skipped, who is left out."""
    settings = preview.settings
    day = preview.day.isoformat()
    lines = [
        _("<b>Nudges today in {title}</b>").format(title=quote(title)),
        _("{day} · today's plan as it was made; this preview sends nothing").format(day=day)
        if preview.made
        else _("{day} · preview: nothing is sent now").format(day=day),
        settings_line(settings),
        ngettext(
            "{count} already planned or sent today.",
            "{count} already planned or sent today.",
            preview.sent_today,
        ).format(count=preview.sent_today),
    ]
    if settings.paused:
        lines.append(_("Nudges are paused: nothing will be sent until /nudges resume."))
    planned = len(preview.planned)
    lines += [
        "",
        _("<b>Planned ({count})</b>").format(count=planned)
        if preview.made
        else _("<b>Would be nudged ({count})</b>").format(count=planned),
    ]
    lines += _listing(preview.planned, lambda line: _planned_line(line, timezone))
    lines += ["", _("<b>Held out ({count})</b>: get nothing, to measure the uplift").format(
        count=len(preview.held_out)
    )]  # fmt: skip
    lines += _listing(preview.held_out, lambda line: _held_out_line(line, timezone))
    lines += ["", _("<b>Skipped ({count})</b>").format(count=len(preview.skipped))]
    lines += _listing(preview.skipped, _skipped_line)
    left_out = preview.plan.left_out
    if left_out:
        lines += ["", _("<b>Left out</b>: {counts}").format(counts=_counts(left_out))]
    return "\n".join(lines)


def _listing(lines: Sequence[PreviewLine], render: Callable[[PreviewLine], str]) -> list[str]:
    if not lines:
        return [_("nobody")]
    shown = [render(line) for line in lines[:SHOWN_PER_LIST]]
    if len(lines) > SHOWN_PER_LIST:
        shown.append(more(len(lines) - SHOWN_PER_LIST))
    return shown


def _who(line: PreviewLine) -> str:
    star = "⭐ " if line.high_value else ""
    if line.stage is None:  # decided this morning, no longer a member
        return f"{star}{short_name(line.name)}"
    return f"{star}{short_name(line.name)} — {stage_name(line.stage)}"


def _step(line: PreviewLine) -> str:
    return _("step {step} of {limit}").format(step=line.decision.step, limit=EPISODE_LIMIT)


def _planned_line(line: PreviewLine, timezone: str) -> str:
    decision = line.decision
    parts = [_who(line), _step(line)]
    if decision.kind is not None:
        parts.append(kind_name(decision.kind))
    if decision.due_at is not None:
        parts.append(_at(decision.due_at, timezone))
    if decision.status is NudgeStatus.SENT:
        parts.append(_("sent"))
    return " · ".join(parts)


def _held_out_line(line: PreviewLine, timezone: str) -> str:
    due_at = line.decision.due_at
    parts = [_who(line), _step(line)]
    return " · ".join(parts if due_at is None else [*parts, _at(due_at, timezone)])


def _at(instant: datetime, timezone: str) -> str:
    """A time of today in the community's zone: ``09:30``."""
    return local_time(instant, timezone).strftime("%H:%M")


def _skipped_line(line: PreviewLine) -> str:
    reason = line.decision.reason
    named = reason_name(reason) if reason is not None else "—"
    return f"{_who(line)} · {named}"


def _counts(counts: Mapping[SkipReason, int]) -> str:
    return ", ".join(
        f"{reason_name(reason)} {count}"
        for reason, count in sorted(counts.items(), key=lambda item: (-item[1], item[0].value))
    )


# -- the member card


def member_line(nudges: MemberNudges, timezone: str) -> str:
    """ "Nudges: 3 sent (last 2026-02-20), 1 returned · 1 held out · turned them off"."""
    if not nudges.sent and not nudges.held_out:
        return _("Nudges: none")
    parts = [ngettext("{count} sent", "{count} sent", nudges.sent).format(count=nudges.sent)]
    if nudges.last_sent_at is not None:
        parts[0] += " " + _("(last {day})").format(
            day=local_time(nudges.last_sent_at, timezone).date().isoformat()
        )
    if nudges.sent:
        parts.append(
            ngettext("{count} returned", "{count} returned", nudges.returned).format(
                count=nudges.returned
            )
        )
    if nudges.held_out:
        parts.append(
            ngettext("{count} held out", "{count} held out", nudges.held_out).format(
                count=nudges.held_out
            )
        )
    if nudges.opted_out:
        parts.append(_("turned them off"))
    return _("Nudges: {summary}").format(summary=", ".join(parts))
