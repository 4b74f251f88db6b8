"""Texts of the conversion import (/import_conversions, ``hearth import-conversions``) and of
a member's purchase points, through gettext. Values from the file are HTML-escaped."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from hearth.domain.conversion_files import (
    MAX_FILE_BYTES,
    REF_LIMIT,
    FileProblem,
    Malformed,
    RowProblem,
    UnreadableConversionFile,
)
from hearth.domain.conversions import ConversionKind
from hearth.handlers.texts import quote
from hearth.services.conversions import ImportReport, Unmatched, UnmatchedRow

PROBLEMS_SHOWN = 20  # lines listed in a report; the rest are counted


def report(found: ImportReport, title: str) -> str:
    """The whole report: counts, then the first problems line by line."""
    lines = [
        ngettext("{title}: {rows} row read.", "{title}: {rows} rows read.", found.read).format(
            title=quote(title), rows=found.read
        )
    ]
    if found.dry_run:
        lines.append(_("A dry run: nothing was written."))
    if found.rejected:
        lines.append(
            ngettext(
                "❌ Nothing was imported: {lines} line needs fixing first. Correct the file "
                "and send it again.",
                "❌ Nothing was imported: {lines} lines need fixing first. Correct the file "
                "and send it again.",
                found.malformed_lines,
            ).format(lines=found.malformed_lines)
        )
        problems = [(each.line, malformed(each)) for each in found.malformed]
    else:
        lines += _counts(found)
        problems = [(each.line, unmatched(each)) for each in found.unmatched]
    problems += [
        (each.line, _("the same as line {first}: counted once").format(first=each.first_line))
        for each in found.duplicates
    ]
    problems.sort(key=lambda pair: pair[0])
    if problems:
        lines.append("")
        lines += [
            _("line {line}: {reason}").format(line=line, reason=reason)
            for line, reason in problems[:PROBLEMS_SHOWN]
        ]
        rest = len(problems) - PROBLEMS_SHOWN
        if rest > 0:
            more = ngettext("… and {count} more", "… and {count} more", rest)
            lines.append(more.format(count=rest))
    return "\n".join(lines)


def _counts(found: ImportReport) -> list[str]:
    imported = (
        ngettext("✅ {count} would be imported.", "✅ {count} would be imported.", found.imported)
        if found.dry_run
        else ngettext("✅ {count} imported.", "✅ {count} imported.", found.imported)
    ).format(count=found.imported)
    lines = [
        imported,
        _("Already imported: {count}").format(count=found.already_imported),
        _("Repeated in the file (counted once): {count}").format(count=len(found.duplicates)),
        _("Not matched to a member (skipped): {count}").format(count=len(found.unmatched)),
    ]
    if found.credits:
        lines.append(
            ngettext(
                "Points: {points} for {count} purchase.",
                "Points: {points} for {count} purchases.",
                found.credits,
            ).format(points=found.points, count=found.credits)
        )
    return lines


def malformed(problem: Malformed) -> str:
    """Why one line cannot be imported."""
    value = quote(problem.value)
    reasons = {
        RowProblem.NO_MEMBER: _("no telegram_id or phone"),
        RowProblem.TWO_MEMBERS: _("both a Telegram id and a phone ({value}): give one"),
        RowProblem.BAD_TELEGRAM_ID: _("“{value}” is not a Telegram user id"),
        RowProblem.BAD_PHONE: _(
            "“{value}” is not a phone number with its country code (e.g. +86 138 1234 5678)"
        ),
        RowProblem.NO_DATE: _("no date"),
        RowProblem.BAD_DATE: _("the date “{value}” is not YYYY-MM-DD"),
        RowProblem.FUTURE_DATE: _("the date {value} is in the future"),
        RowProblem.NO_KIND: _("no kind (service, purchase or trade_in)"),
        RowProblem.BAD_KIND: _("the kind “{value}” is not service, purchase or trade_in"),
        RowProblem.BAD_AMOUNT: _("the amount “{value}” is not a number like 1234.50"),
        RowProblem.NEGATIVE_AMOUNT: _("the amount {value} is negative"),
        RowProblem.TOO_MANY_DECIMALS: _("the amount {value} has more than 2 decimals"),
        RowProblem.AMOUNT_TOO_LARGE: _("the amount {value} is too large"),
        RowProblem.REF_TOO_LONG: _("the ref is longer than {limit} characters"),
        RowProblem.REF_REUSED: _("the ref of line {value} again, with other values"),
        RowProblem.EXTRA_VALUES: _("more values than the header has columns ({value})"),
    }
    return reasons[problem.problem].format(value=value, limit=REF_LIMIT)


def unmatched(row: UnmatchedRow) -> str:
    """Why a good line names no member of the community."""
    value = quote(row.value)
    if row.reason is Unmatched.UNKNOWN_MEMBER:
        text = _("no member of this community has Telegram id {value} (skipped)")
    elif row.reason is Unmatched.UNKNOWN_PHONE:
        text = _("no member of this community shared the number {value} (skipped)")
    else:
        text = _("several members shared the number {value}: which one is unclear (skipped)")
    return text.format(value=value)


def unreadable(error: UnreadableConversionFile) -> str:
    """Why a file cannot be read at all (nothing of it was imported)."""
    reasons = {
        FileProblem.TOO_LARGE: _("it is larger than {size} MB"),
        FileProblem.NOT_UTF8: _("it is not UTF-8 text (save it as “CSV UTF-8”)"),
        FileProblem.NO_HEADER: _("it is empty"),
        FileProblem.MISSING_COLUMNS: _("the first line must name the columns; missing: {detail}"),
        FileProblem.REPEATED_COLUMN: _("the column {detail} is named twice"),
        FileProblem.NO_ROWS: _("it has a header but no rows"),
        FileProblem.TOO_MANY_ROWS: _("it has more than {detail} rows: split it"),
    }
    reason = reasons[error.problem].format(
        size=MAX_FILE_BYTES // 1_000_000, detail=quote(error.detail)
    )
    return _("I could not read that file: {reason}. Nothing was imported.").format(reason=reason)


# -- the operator's steps


def prompt(title: str) -> str:
    return _(
        "Send me the CSV file of conversions for {title} (service visits, purchases, "
        "trade-ins). Columns: telegram_id or phone, date (YYYY-MM-DD), kind (service, "
        "purchase, trade_in), amount, ref. /cancel to stop."
    ).format(title=quote(title))


def not_csv() -> str:
    return _("Send a .csv file (UTF-8, comma or semicolon separated).")


def file_too_big() -> str:
    return _("That file is larger than {size} MB.").format(size=MAX_FILE_BYTES // 1_000_000)


def cancelled() -> str:
    return _("Import cancelled: nothing was imported.")


def in_private() -> str:
    return _("Send /import_conversions with the CSV file to me in private.")


# -- the member's notice


def credited(kind: ConversionKind, title: str, points: int) -> str:
    if kind is ConversionKind.TRADE_IN:
        text = _(
            "🚗 Thank you for trading in with {title}! Your trade-in earned you {points} points."
        )
    else:
        text = _("🎉 Thank you for your purchase with {title}! It earned you {points} points.")
    return text.format(title=quote(title), points=points)
