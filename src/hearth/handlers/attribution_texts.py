"""Texts of attribution, through gettext: ``/stats conversions`` and the digest's
"Conversions" section. Figures per occasion are a monospace table, one column per window;
an open window shows its counts so far and no uplift."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from aiogram.utils.i18n import gettext as _

from hearth.domain.attribution import (
    MAX_DAYS,
    Attribution,
    Comparison,
    ComparisonKind,
    GroupFigures,
    OccasionKind,
    WindowFigures,
)
from hearth.domain.conversions import ConversionKind
from hearth.handlers.channels_texts import kind_name, messages, money, row_name
from hearth.handlers.texts import quote
from hearth.services.attribution import ConversionDigest, ConversionReport, Totals
from hearth.services.channels import ChannelReport

LABEL_WIDTH = 12  # terminal columns of the table's first column …
CELL_WIDTH = 12  # … and of each window's column
NO_FIGURE = "—"


def usage() -> str:
    return _(
        "Usage: /stats conversions [days] [service|purchase|trade_in] — 1 to {limit} days, "
        "30 by default"
    ).format(limit=MAX_DAYS)


def nothing_imported() -> str:
    return _("No conversions imported yet — see /import_conversions.")


# -- /stats conversions


def report(found: ConversionReport, by_channel: Sequence[str] = ()) -> list[str]:
    """The answer to ``/stats conversions``, as messages that fit Telegram's limit: the
    period's totals, then the latest events, nudge campaigns and quiz seasons.
    ``by_channel``: the lines of the conversions by channel, when there are any."""
    title = _("<b>Conversions · {title}</b>").format(title=quote(found.community.title))
    if not found.imported:
        return [f"{title}\n{nothing_imported()}"]
    period = _("{first} – {last} ({days} days)").format(
        first=found.first.isoformat(),
        last=found.last.isoformat(),
        days=(found.last - found.first).days + 1,
    )
    if found.kind is not None:
        period += " · " + _("only {kind}").format(kind=kind_name(found.kind.value))
    blocks = ["\n".join([title, period, *totals(found.totals)])]
    if by_channel:
        blocks.append("\n".join(by_channel))
    blocks.append(legend())
    sections = (
        (_("<b>Events</b> (the latest that ended)"), found.events, _("No event has ended yet.")),
        (
            _("<b>Nudge campaigns</b> (by month of sending)"),
            found.campaigns,
            _("No nudges were sent in the last 12 months."),
        ),
        (_("<b>Quiz seasons</b>"), found.seasons, ""),
    )
    for heading, occasions, none in sections:
        blocks.append(heading if occasions or not none else f"{heading}\n{none}")
        blocks += [occasion_block(each) for each in occasions]
    return messages(blocks)


def totals(found: Totals) -> list[str]:
    """One line per kind: count and amount; or that there were none."""
    if not found:
        return [_("No conversions in these days.")]
    return [
        _("{kind}: {count} · {amount}").format(
            kind=kind_name(kind.value), count=count, amount=money(amount)
        )
        for kind, (count, amount) in found.items()
    ]


def legend() -> str:
    return _(
        "Share of members with a conversion in the 30 and 90 days after taking part, "
        "against members who did not take part (for nudges, also the random holdout). "
        "“Same mix”: their share had they the participants' lifecycle stages; the uplift "
        "is against it, in percentage points (pp). “open”: the window is not over, the "
        "counts are so far."
    )


def occasion_title(found: Attribution) -> str:
    """What the occasion is, with how many took part."""
    occasion = found.occasion
    first = found.windows[0] if found.windows else None
    taking_part = first.participants.members if first is not None else 0
    if occasion.kind is OccasionKind.EVENT:
        words = (
            _("<b>#{number} {title}</b> · {day} · going: {count} (no check-ins recorded)")
            if occasion.from_rsvps
            else _("<b>#{number} {title}</b> · {day} · checked in: {count}")
        )
        return words.format(
            number=occasion.reference,
            title=quote(occasion.title),
            day=occasion.first.isoformat(),
            count=taking_part,
        )
    if occasion.kind is OccasionKind.NUDGES:
        holdout = first.comparison(ComparisonKind.HOLDOUT) if first is not None else None
        return _("<b>{month}</b> · nudged: {count}, holdout: {holdout}").format(
            month=occasion.reference,
            count=taking_part,
            holdout=holdout.group.members if holdout is not None else 0,
        )
    if occasion.kind is OccasionKind.QUIZ:
        return _("<b>{season}</b> · answered: {count}").format(
            season=occasion.reference, count=taking_part
        )
    return _("<b>Events {first} – {last}</b> · taking part: {count}").format(
        first=occasion.first.isoformat(), last=occasion.last.isoformat(), count=taking_part
    )


def occasion_block(found: Attribution) -> str:
    """The occasion's title, its table and what to read with care."""
    lines = [occasion_title(found)]
    windows = found.windows
    if not windows or not windows[0].participants.members:
        return "\n".join([*lines, _("Nobody took part.")])
    lines.append("<pre>" + quote("\n".join(table(windows))) + "</pre>")
    still_open = [each for each in windows if not each.complete]
    if still_open:
        lines.append(
            _("Open, counted so far: {windows}.").format(
                windows=", ".join(
                    _("{days} d until {day}").format(days=each.days, day=each.ends_on.isoformat())
                    for each in still_open
                )
            )
        )
    for compared in windows[0].comparisons:
        if compared.group.members and compared.covered < windows[0].participants.members:
            lines.append(
                _(
                    "“Same mix” for {group} covers {covered} of {count} participants: "
                    "{group} has nobody in the other participants' lifecycle stages."
                ).format(
                    group=group_name(compared.kind),
                    covered=compared.covered,
                    count=windows[0].participants.members,
                )
            )
    return "\n".join(lines)


def table(windows: Sequence[WindowFigures]) -> list[str]:
    """Rows of the monospace table: a column per window."""
    rows = [_row("", [_("{days} d").format(days=each.days) for each in windows])]
    rows.append(_row(_("took part"), [_fraction(each.participants) for each in windows]))
    for index, compared in enumerate(windows[0].comparisons):
        per_window = [each.comparisons[index] for each in windows]
        rows.append(_row(group_name(compared.kind), [_fraction(each.group) for each in per_window]))
        rows.append(
            _row(" " + _("same mix"), [percent(each.standardised_share) for each in per_window])
        )
        rows.append(
            _row(
                " " + _("uplift"),
                [_uplift(each, window) for each, window in zip(per_window, windows, strict=True)],
            )
        )
    rows.append(_row(_("conversions"), [str(each.participants.conversions) for each in windows]))
    rows.append(_row(_("amount"), [money(each.participants.amount_minor) for each in windows]))
    return rows


def group_name(kind: ComparisonKind) -> str:
    names = {ComparisonKind.OTHERS: _("others"), ComparisonKind.HOLDOUT: _("holdout")}
    return names[kind]


def percent(share: float | None) -> str:
    return NO_FIGURE if share is None else f"{share:.1%}"


def points(uplift: float | None) -> str:
    """An uplift in percentage points: "+33.3pp"."""
    return NO_FIGURE if uplift is None else f"{uplift:+.1f}pp"


def _fraction(group: GroupFigures) -> str:
    if not group.members:
        return NO_FIGURE
    return f"{group.converted}/{group.members} {percent(group.share)}"


def _uplift(compared: Comparison, window: WindowFigures) -> str:
    """The uplift; "open" (no uplift yet) while the window is not over."""
    if compared.uplift_points is None or window.complete:
        return points(compared.uplift_points)
    return _("open")


def _row(label: str, cells: Sequence[str]) -> str:
    return (
        _pad(label, LABEL_WIDTH) + "".join(_pad(cell, CELL_WIDTH, right=True) for cell in cells)
    ).rstrip()


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """Pad to a width in terminal columns: CJK characters take two."""
    used = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    space = " " * max(width - used, 0)
    return space + text if right else text + space


# -- the weekly digest


def digest_section(found: ConversionDigest) -> list[str]:
    """The digest's short "Conversions" section, after a blank line: the week's conversions
    by kind, and the recent event with the best 30-day uplift."""
    lines = ["", _("<b>Conversions</b>")]
    if found.totals:
        lines.append(
            "; ".join(
                _("{kind} {count} ({amount})").format(
                    kind=kind_name(kind.value), count=count, amount=money(amount)
                )
                for kind, (count, amount) in found.totals.items()
            )
        )
    else:
        lines.append(_("None this week."))
    best = found.best_event
    window = best.window(30) if best is not None else None
    compared = window.comparison(ComparisonKind.OTHERS) if window is not None else None
    if best is not None and window is not None and compared is not None:
        lines.append(
            _(
                "Best recent event: {title} ({day}), {uplift} in 30 days ({share} of "
                "participants against {others} of the same mix). /stats conversions"
            ).format(
                title=quote(best.occasion.title),
                day=best.occasion.first.isoformat(),
                uplift=points(compared.uplift_points),
                share=percent(window.participants.share),
                others=percent(compared.standardised_share),
            )
        )
    return lines


def by_channel(found: ChannelReport, kind: ConversionKind | None) -> list[str]:
    """Conversions by the channel that brought the member (``kind`` only, when given):
    channels with conversions or still in use, then the members who came direct."""
    lines = [_("<b>By channel</b> (the channel that brought the member)")]
    for figures in [*found.channels, found.direct]:
        kinds = {
            name: totals
            for name, totals in figures.conversions.items()
            if kind is None or name == kind.value
        }
        archived = figures.channel is not None and figures.channel.archived
        if archived and not kinds:
            continue
        count = sum(each for each, _amount in kinds.values())
        amount = sum(amount for _each, amount in kinds.values())
        lines.append(
            _("{name}: {count} · {amount} (members brought: {brought})").format(
                name=row_name(figures), count=count, amount=money(amount), brought=figures.brought
            )
        )
    return lines
