"""Every text of the honour boards, through gettext; names are HTML-escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from aiogram.utils.i18n import gettext as _

from hearth.domain.errors import HearthError
from hearth.domain.honour import (
    TITLED_RANKS,
    AmbiguousMetric,
    Board,
    HonourMetric,
    HonourReport,
    InvalidMetricSpec,
    InvalidMonth,
    InvalidReport,
    MetricExists,
    ReportSettled,
    ReportStatus,
    UnknownMetric,
    UnknownReport,
    format_amount,
)
from hearth.domain.rate_limits import OverLimit
from hearth.handlers.feedback_texts import wait
from hearth.handlers.texts import quote


def amount(value: int, metric: HonourMetric) -> str:
    """A value with its unit, such as 1,234.5 km (the bare number without a unit)."""
    shown = format_amount(value)
    return f"{shown} {quote(metric.unit)}" if metric.unit else shown


def title(rank: int) -> str:
    """The title of the first three places; "" below them."""
    titles = {1: _("🥇 Champion"), 2: _("🥈 Runner-up"), 3: _("🥉 Third place")}
    return titles.get(rank, "") if rank <= TITLED_RANKS else ""


# -- operators


def new_usage() -> str:
    return _(
        "Usage: /honour_new NAME [unit=km] [approval=yes|no] [max=N] [post=yes|no] — e.g. "
        "/honour_new Kilometres driven unit=km approval=yes"
    )


def metric_created(metric: HonourMetric, community: str) -> str:
    lines = [
        _("🏆 New honour board in <b>{title}</b>: <b>{name}</b> (#{number}).").format(
            title=quote(community), name=quote(metric.name), number=metric.id
        ),
        _("Members report their value for the month in private: /report {name} 120").format(
            name=quote(metric.name)
        ),
        _("Each report needs an operator's approval.")
        if metric.needs_approval
        else _("Reports count at once, without approval."),
        _("At most {max} per report.").format(max=amount(metric.max_amount, metric)),
    ]
    if metric.post_board:
        lines.append(_("The finished month's board is posted in the group on the 1st."))
    return "\n".join(lines)


def review(metric: HonourMetric, report: HonourReport, reporter: str, community: str) -> str:
    return "\n".join(
        [
            _("🏆 <b>{name}</b> in {title} (report #{number})").format(
                name=quote(metric.name), title=quote(community), number=report.id
            ),
            _("{member} reports {amount} for {month}.").format(
                member=quote(reporter), amount=amount(report.amount, metric), month=report.month
            ),
            _("Approve it so that it counts on the board, or reject it."),
        ]
    )


def decided(status: ReportStatus, report: HonourReport, metric: HonourMetric) -> str:
    if status is ReportStatus.APPROVED:
        return _("Approved: {amount} counts for {month}.").format(
            amount=amount(report.amount, metric), month=report.month
        )
    return _("Rejected: report #{number} does not count.").format(number=report.id)


# -- members


def report_usage() -> str:
    return _(
        "Usage: /report BOARD VALUE — e.g. /report Kilometres driven 1234. Send it as the "
        "caption of a photo to add proof. /honour lists the boards."
    )


def report_in_private() -> str:
    return _("Send /report to me in private, with a photo as proof if you like.")


def reported(report: HonourReport, metric: HonourMetric, *, replayed: bool) -> str:
    shown = {"amount": amount(report.amount, metric), "month": report.month}
    if replayed:
        line = _("I have this report already: {amount} for {month}.").format(**shown)
    elif report.status is ReportStatus.PENDING:
        line = _("Thank you! {amount} for {month} waits for the team's approval.").format(**shown)
    else:
        line = _("Counted: {amount} for {month}.").format(**shown)
    return "\n".join(
        [
            f"🏆 <b>{quote(metric.name)}</b>",
            line,
            _("See the board: /honour {name}").format(name=quote(metric.name)),
        ]
    )


def decided_for_member(metric: HonourMetric, report: HonourReport, community: str) -> str:
    shown = {
        "amount": amount(report.amount, metric),
        "name": quote(metric.name),
        "title": quote(community),
        "month": report.month,
    }
    if report.status is ReportStatus.APPROVED:
        return _(
            "✅ Your report of {amount} for <b>{name}</b> ({month}) in {title} was approved "
            "and counts on the board."
        ).format(**shown)
    return _(
        "Your report of {amount} for <b>{name}</b> ({month}) in {title} was not approved. "
        "Ask the team if you are unsure why."
    ).format(**shown)


def refusal(error: HearthError, now: datetime, titles: Mapping[int, str] | None = None) -> str:
    """Why a report, a board or an operator's action was refused; nothing changed.
    ``titles`` names the communities of an ambiguous metric."""
    if isinstance(error, OverLimit):
        return _(
            "You have sent {count} reports within a day. Please wait {wait} before the next one."
        ).format(count=error.limit.count, wait=wait(error.retry_at, now))
    if isinstance(error, InvalidReport):
        return _invalid_report(error)
    if isinstance(error, UnknownMetric):
        return _(
            "There is no honour board “{name}” in your communities. /honour lists them."
        ).format(name=quote(error.reference))
    if isinstance(error, AmbiguousMetric):
        return "\n".join(
            [_("Several of your communities have this board; name it by its number:")]
            + [
                _("#{number} {name} — {title}").format(
                    number=metric.id,
                    name=quote(metric.name),
                    title=quote((titles or {}).get(metric.community_id, "")),
                )
                for metric in error.metrics
            ]
        )
    if isinstance(error, InvalidMonth):
        return _("Write the month as YYYY-MM, e.g. 2026-03.")
    if isinstance(error, MetricExists):
        return _("There is a board called “{name}” already.").format(name=quote(error.name))
    if isinstance(error, UnknownReport):
        return _("There is no report #{number} in your communities.").format(number=error.report_id)
    if isinstance(error, ReportSettled):
        if error.status is ReportStatus.APPROVED:
            return _("This report was approved already.")
        return _("This report was rejected already.")
    if isinstance(error, InvalidMetricSpec):
        return invalid_metric(error)
    return _("Sorry, something went wrong on my side. Please try again in a moment.")


def _invalid_report(error: InvalidReport) -> str:
    metric = error.metric
    if error.part == "amount":
        return _(
            "The value must be a positive number with at most two decimals, e.g. 1234 or 12.5."
        )
    if error.part == "too_large" and metric is not None:
        return _(
            "That is more than {max}, the most one report for <b>{name}</b> may carry."
        ).format(max=amount(metric.max_amount, metric), name=quote(metric.name))
    if error.part == "unit" and metric is not None:
        if not metric.unit:
            return _("<b>{name}</b> is a plain number: write the value without a unit.").format(
                name=quote(metric.name)
            )
        return _("<b>{name}</b> is counted in {unit}.").format(
            name=quote(metric.name), unit=quote(metric.unit)
        )
    return report_usage()


def invalid_metric(error: InvalidMetricSpec) -> str:
    if error.part == "name":
        return _("A board's name has at most 48 characters and does not start with #.")
    if error.part == "unit":
        return _("unit= takes a short unit without digits, e.g. unit=km.")
    if error.part == "max":
        return _("max= takes a positive number, e.g. max=20000.")
    if error.part in {"approval", "post"}:
        return _("{flag}= takes yes or no.").format(flag=error.part)
    if error.part == "flag":
        return _("I do not know “{flag}”. {usage}").format(
            flag=quote(error.value), usage=new_usage()
        )
    return new_usage()


# -- boards


def board(shown: Board, community: str) -> str:
    metric = shown.metric
    lines = [
        _("🏆 <b>{name}</b> — {month} · {title}").format(
            name=quote(metric.name), month=shown.month, title=quote(community)
        ),
        "",
    ]
    if not shown.standings:
        lines.append(
            _("Nobody is on this board for {month} yet. Report yours in private: "
              "/report {name} VALUE").format(month=shown.month, name=quote(metric.name))
        )  # fmt: skip
        return "\n".join(lines)
    for standing in shown.standings:
        value = amount(standing.total, metric)
        name = quote(standing.name)
        if standing.rank <= TITLED_RANKS:
            lines.append(
                _("{title} — {name}: {amount}").format(
                    title=title(standing.rank), name=name, amount=value
                )
            )
        else:
            lines.append(f"{standing.rank}. {name}: {value}")
    return "\n".join(lines)


def final_board(shown: Board, community: str) -> str:
    return "\n".join(
        [
            _("The {month} board is final. Congratulations!").format(month=shown.month),
            "",
            board(shown, community),
        ]
    )


def boards(metrics: Sequence[HonourMetric], titles: Mapping[int, str], *, tappable: bool) -> str:
    if not metrics:
        return _("No honour boards yet: the team has not started one.")
    lines = [_("🏆 <b>Honour boards</b>"), ""]
    several = len(set(titles.values())) > 1
    for metric in metrics:
        line = f"#{metric.id} {quote(metric.name)}"
        if metric.unit:
            line += f" ({quote(metric.unit)})"
        if several:
            line += f" — {quote(titles.get(metric.community_id, ''))}"
        lines.append(line)
    lines += [
        "",
        _("Tap one for this month's board, or send /honour NAME [YYYY-MM].")
        if tappable
        else _("Send /honour NAME [YYYY-MM] for a board."),
        _("Report your value in private: /report NAME VALUE"),
    ]
    return "\n".join(lines)
