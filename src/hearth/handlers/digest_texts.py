"""Texts of the weekly digest and /cohorts, and the words on their charts."""

from __future__ import annotations

import unicodedata

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from hearth.domain.cohorts import MAX_COHORTS, Movement, RetentionTable
from hearth.domain.lifecycle import Stage
from hearth.domain.rfm import Segment
from hearth.handlers import attribution_texts, channels_texts, exit_survey_texts
from hearth.handlers.events_texts import moment
from hearth.handlers.segments_texts import more, segment_name, short_name, stage_name
from hearth.handlers.texts import figure_lines, quote
from hearth.services.charts import ChartText
from hearth.services.digest import PERIOD_DAYS, Digest, Listing


def stage_names() -> dict[Stage, str]:
    return {stage: stage_name(stage) for stage in Stage}


# --- the digest ---------------------------------------------------------------------


def digest_text(digest: Digest, *, preview: bool = False) -> str:
    """The digest's message: the week's figures, who needs attention, what is coming up."""
    figures = digest.figures
    period = figures.current
    lines = []
    if preview:
        lines += [_("<i>Preview: this is what operators get every week.</i>"), ""]
    lines += [
        _("<b>Weekly digest of {title}</b>").format(title=quote(digest.community.title)),
        _("{first} – {last}, against the {days} days before").format(
            first=f"{period.first:%Y-%m-%d}", last=f"{period.last:%Y-%m-%d}", days=PERIOD_DAYS
        ),
        "",
        *figure_lines(
            figures,
            "members",
            "joined",
            "left",
            "daily_active",
            "weekly_active",
            "stickiness",
            "churn_rate",
        ),
        _("Reachable in private (started the bot): {count}").format(count=figures.reachable),
        "",
        _("<b>Moved into “Can't lose” or “At risk” ({count})</b>").format(
            count=digest.watched.total
        ),
        *_listing(digest.watched, _("Nobody moved into these segments this week.")),
        "",
        _("<b>Became “Declining” ({count})</b>").format(count=digest.declining.total),
        *_listing(digest.declining, _("Nobody became declining this week.")),
        "",
        _("<b>Events in the next 7 days</b>"),
    ]
    timezone = digest.community.timezone
    lines += [
        _("{when} — {title} ({going} going)").format(
            when=moment(each.event.starts_at, timezone),
            title=quote(each.event.title),
            going=each.going,
        )
        for each in digest.upcoming
    ] or [_("No events in the next 7 days.")]
    lines += exit_survey_texts.departures(digest.departures)
    if digest.by_channel is not None:
        lines += channels_texts.digest_section(digest.by_channel)
    if digest.conversions is not None:
        lines += attribution_texts.digest_section(digest.conversions)
    lines += ["", _("Charts: daily active members, members by stage, retention by join week.")]
    if preview and not digest.community.digest_enabled:
        lines += ["", digest_is_off()]
    return "\n".join(lines)


def _listing(listing: Listing, nobody: str) -> list[str]:
    """One line per member named, high-value ones starred; the rest counted."""
    if not listing.total:
        return [nobody]
    lines = [_member_line(member) for member in listing.members]
    if listing.more:
        lines.append(more(listing.more))
    return lines


_SEGMENTS = frozenset(segment.value for segment in Segment)


def _member_line(member: Movement) -> str:
    star = "⭐ " if member.high_value else ""
    segment = segment_name(Segment(member.into)) if member.into in _SEGMENTS else None
    name = short_name(member.name)
    return f"{star}{name} — {segment}" if segment else f"{star}{name}"


def digest_is_off() -> str:
    return _("The weekly digest is off for this community; /digest on in the group turns it on.")


def digest_usage() -> str:
    return _(
        "Usage: /digest for a preview now; /digest on or /digest off in the group for the "
        "weekly digest in private."
    )


def digest_changed(enabled: bool) -> str:
    if enabled:
        return _("Operators who started the bot will get the weekly digest in private.")
    return _("The weekly digest is off for this community.")


# --- /cohorts -----------------------------------------------------------------------


def cohorts_usage() -> str:
    return _("Usage: /cohorts or /cohorts 12 (the last 1 to {most} join weeks).").format(
        most=MAX_COHORTS
    )


def cohorts_text(title: str, table: RetentionTable) -> str:
    """A monospace table: one row per join week, the share active in each week after."""
    header = [_pad(_("Week of"), 8), _pad(_("Members"), 8, right=True)]
    header += [f"{week:>5}" for week in range(table.weeks)]
    rows = ["".join(header)]
    for row in table.rows:
        size = f"{row.members}{'*' if row.small else ''}"
        cells = ["     " if share is None else f"{share:>5.0%}" for share in row.shares]
        rows.append(f"{row.start:%m-%d}   {size:>8}" + "".join(cells).rstrip())
    lines = [
        _("<b>Retention by join week: {title}</b>").format(title=quote(title)),
        _(
            "Share of each week's newcomers who took part in each week after joining (0 is "
            "the week they joined). Blank: the week is not over yet."
        ),
        "<pre>" + quote("\n".join(rows)) + "</pre>",
    ]
    if any(row.small for row in table.rows):
        lines.append(small_cohorts(table.min_members))
    if not table.members:
        lines.append(_("Nobody joined in these weeks."))
    lines.append(_("Members who were already in the group when I arrived are in no cohort."))
    return "\n".join(lines)


def small_cohorts(least: int) -> str:
    return ngettext(
        "* fewer than {count} member: read with care",
        "* fewer than {count} members: read with care",
        least,
    ).format(count=least)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """Pad to a width in terminal columns: CJK characters take two."""
    used = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    space = " " * max(width - used, 0)
    return space + text if right else text + space


# --- charts -------------------------------------------------------------------------


def active_chart() -> ChartText:
    return ChartText(
        title=_("Members active per day"),
        x_label=_("day"),
        y_label=_("members"),
    )


def stages_chart() -> ChartText:
    return ChartText(title=_("Members by lifecycle stage"), x_label=_("day"), y_label=_("members"))


def retention_chart(table: RetentionTable) -> ChartText:
    return ChartText(
        title=_("Share of newcomers active, by join week"),
        x_label=_("weeks since joining"),
        y_label=_("week of joining · members"),
        note=small_cohorts(table.min_members) if any(row.small for row in table.rows) else "",
    )


def chart_caption(title: str, chart: str, weeks: int) -> str:
    """The caption under a chart photo (``chart``: active, stages or cohorts)."""
    captions = {
        "active": _("{title}: members active per day, last {weeks} weeks"),
        "stages": _("{title}: members by lifecycle stage, last {weeks} weeks"),
        "cohorts": _("{title}: retention of the last {weeks} join weeks"),
    }
    return captions[chart].format(title=quote(title), weeks=weeks)
