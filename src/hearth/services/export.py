"""Exports of one community for operators: members, activity, the points ledger and events,
as CSV (UTF-8 with a byte-order mark, so that Excel reads Chinese names right) or XLSX.

Rows are read and written in batches: a community's millions of activity rows never sit
in memory as rows (an XLSX is assembled by openpyxl's write-only mode, which streams rows
to a temporary file). Instants are UTC; days are the community's local days. No message
text is exported: Hearth never stores any. A member who erased their data appears only by
the anonymised name they were left with. The phone numbers members shared appear only in an
export the operator asked them for (``with_phones``), and such an export is audited.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import BinaryIO, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from hearth.domain.members import CommunityProfile
from hearth.domain.segments import ListKind, MemberFilter, MemberRecord, Selection, file_stem
from hearth.services import attribution, events, segments
from hearth.services.ports import UnitOfWork

BATCH = 1000

Cell = str | int | float | Decimal | date | datetime | None


class ExportKind(enum.StrEnum):
    """What an export holds."""

    MEMBERS = "members"
    ACTIVITY = "activity"
    POINTS = "points"
    EVENTS = "events"
    CONVERSIONS = "conversions"  # service visits, purchases, trade-ins the business reported
    ATTRIBUTION = "attribution"  # conversions after events, nudges, quizzes vs others


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


COLUMNS: dict[ExportKind, tuple[str, ...]] = {
    ExportKind.MEMBERS: (
        "member_id", "name", "username", "joined_at_utc", "left_at_utc", "stage",
        "stage_since", "segment", "segment_since", "recency", "frequency", "value",
        "high_value", "tags", "tier", "balance", "current_streak", "last_active_day",
    ),
    ExportKind.ACTIVITY: ("member_id", "kind", "occurred_at_utc", "local_day"),
    ExportKind.POINTS: (
        "entry_id", "member_id", "kind", "amount", "reason", "created_at_utc",
        "expires_at_utc", "remaining", "actor_id",
    ),
    ExportKind.EVENTS: (
        "event_id", "title", "starts_at_utc", "ends_at_utc", "place", "status", "capacity",
        "points", "going", "waitlisted", "maybe", "not_going", "attended", "feedback_answers",
        "ratings", "average_rating", "nps",
    ),
    ExportKind.CONVERSIONS: ("member_id", "name", "kind", "date", "amount", "key"),
    ExportKind.ATTRIBUTION: attribution.EXPORT_COLUMNS,
}  # fmt: skip
PHONE_COLUMN = "phone"
PHONE_KINDS = frozenset({ExportKind.MEMBERS, ExportKind.CONVERSIONS})  # may carry phones
PHONES_AUDIT_ACTION = "export.phones"

_SELECTION_NAMES = {ListKind.STAGE: "stage", ListKind.SEGMENT: "segment", ListKind.TAG: "tag"}


def file_name(
    community: CommunityProfile,
    what: ExportKind,
    file_format: ExportFormat,
    today: date,
    selection: Selection | None = None,
) -> str:
    """E.g. "pudong-owners-members-2026-03-02.csv", "…-segment-at-risk-2026-03-02.csv"."""
    parts = [what.value] if selection is None else [_SELECTION_NAMES[selection.kind]]
    if selection is not None:
        parts.append(selection.value)
    return f"{file_stem(community.title, *parts, today.isoformat())}.{file_format.value}"


async def write(
    uow: UnitOfWork,
    community: CommunityProfile,
    what: ExportKind,
    file_format: ExportFormat,
    sink: BinaryIO,
    *,
    today: date,
    selection: Selection | None = None,
    wanted: MemberFilter | None = None,
    max_bytes: int | None = None,
    with_phones: bool = False,
) -> int:
    """Write the export to ``sink`` (a binary file); returns the rows written, the header
    not counted. ``today`` (the community's local day) dates current streaks; ``selection``
    narrows a members export to one stage, segment or tag, ``wanted`` to the current members
    a console filter holds, in its order. With ``max_bytes``, a CSV that
    grows past it stops early with ``ExportTooLarge`` instead of filling memory (an XLSX
    is compressed only when saved: its size is known at the end). ``with_phones`` adds the
    numbers members shared (members and conversions only: ``PHONE_KINDS``); the caller
    audits it (``audit_phones``)."""
    if with_phones and what not in PHONE_KINDS:
        raise ValueError(f"a {what.value} export has no phone numbers")
    sheet = _sheet(file_format, sink, what.value)
    sheet.append(COLUMNS[what] + ((PHONE_COLUMN,) if with_phones else ()))
    rows = 0
    try:
        async for batch in _rows(uow, community, what, today, selection, wanted, with_phones):
            for row in batch:
                sheet.append(row)
            rows += len(batch)
            if max_bytes is not None and sheet.written() > max_bytes:
                raise ExportTooLarge(max_bytes)
    finally:
        sheet.close()  # (the sink stays the caller's, open, also when stopped early)
    return rows


async def audit_phones(
    uow: UnitOfWork,
    community: CommunityProfile,
    what: ExportKind,
    rows: int,
    *,
    actor_id: int,
    via: str,
    now: datetime,
) -> None:
    """Record that an export with phone numbers left Hearth: who, which, how many rows."""
    await uow.audit.record(
        actor_id=actor_id,
        action=PHONES_AUDIT_ACTION,
        community_id=community.id,
        details={"what": what.value, "rows": rows, "via": via},
        now=now,
    )


class ExportTooLarge(Exception):
    """The file passed the size it may have (``limit`` bytes) while being written."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the export passed {limit} bytes")
        self.limit = limit


async def _rows(
    uow: UnitOfWork,
    community: CommunityProfile,
    what: ExportKind,
    today: date,
    selection: Selection | None,
    wanted: MemberFilter | None,
    with_phones: bool,
) -> AsyncIterator[list[Sequence[Cell]]]:
    if what is ExportKind.MEMBERS:
        batches = (
            uow.segments.batches(community.id, selection, BATCH)
            if wanted is None
            else segments.roster_batches(uow, community, wanted, BATCH)
        )
        async for members in batches:
            phones = None
            if with_phones:  # the phone table is read only when asked for
                phones = await uow.member_contacts.phones_of([each.member_id for each in members])
            yield [_member_row(member, today, phones) for member in members]
    elif what is ExportKind.ACTIVITY:
        async for activity in uow.exports.activity(community.id, BATCH):
            yield [
                (each.member_id, each.kind.value, each.occurred_at, each.local_day)
                for each in activity
            ]
    elif what is ExportKind.POINTS:
        async for entries in uow.exports.ledger(community.id, BATCH):
            yield [
                (
                    entry.id, entry.member_id, entry.kind.value, entry.amount, entry.reason,
                    entry.created_at, entry.expires_at, entry.remaining, entry.actor_id,
                )
                for entry in entries
            ]  # fmt: skip
    elif what is ExportKind.CONVERSIONS:
        conversions = uow.conversions.entries(community.id, BATCH, with_phones=with_phones)
        async for found in conversions:
            yield [
                (
                    each.member_id, each.name, each.kind, each.occurred_on,
                    Decimal(each.amount_minor).scaleb(-2), each.key,
                    *((each.phone,) if with_phones else ()),
                )
                for each in found
            ]  # fmt: skip
    elif what is ExportKind.ATTRIBUTION:  # one row per occasion and window
        yield [
            attribution.export_row(found, window)
            for found in await attribution.attributions(uow, community, today=today)
            for window in found.windows
        ]
    else:
        yield [
            await _event_row(uow, community, event.id)
            for event in await uow.exports.events(community.id)
        ]


def _member_row(
    member: MemberRecord, today: date, phones: dict[int, str] | None = None
) -> Sequence[Cell]:
    """The member's line; with their phone number last when ``phones`` were read."""
    standing = member.standing
    phone = () if phones is None else (phones.get(member.member_id),)
    return (
        member.member_id,
        member.name,
        None if member.handle is None else member.username,  # no "@": a formula start
        member.joined_at,
        member.left_at,
        standing.stage.value if standing else None,
        standing.since if standing else None,
        standing.segment.value if standing and standing.segment else None,
        standing.segment_since if standing else None,
        standing.recency if standing else None,
        standing.frequency if standing else None,
        standing.value if standing else None,
        "yes" if standing and standing.high_value else "no",
        ", ".join(member.tags),
        member.tier,
        member.balance,
        member.streak_on(today),
        member.last_active_on,
        *phone,
    )


async def _event_row(uow: UnitOfWork, community: CommunityProfile, event_id: int) -> Sequence[Cell]:
    report = await events.report(uow, event_id=event_id, operated={community.id})
    event, counts = report.event, report.counts
    average = None if report.average_rating is None else round(report.average_rating, 2)
    return (
        event.id, event.title, event.starts_at, event.ends_at, event.place, event.status.value,
        event.capacity, event.points, counts.going, counts.waitlisted, counts.maybe,
        counts.not_going, report.attended, report.answers, report.ratings, average, report.nps,
    )  # fmt: skip


# -- the two file formats


class _Sheet(Protocol):
    def append(self, row: Sequence[Cell]) -> None: ...

    def written(self) -> int:
        """Bytes written so far (0 when not known before closing)."""
        ...

    def close(self) -> None: ...


def _sheet(file_format: ExportFormat, sink: BinaryIO, title: str) -> _Sheet:
    return _CsvSheet(sink) if file_format is ExportFormat.CSV else _XlsxSheet(sink, title)


# Spreadsheets run a cell that starts with one of these as a formula (CSV injection): a
# member named "=HYPERLINK(…)" must stay a name.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _CsvSheet:
    """CSV in UTF-8 with a byte-order mark; instants as "YYYY-MM-DD HH:MM:SS" (UTC)."""

    def __init__(self, sink: BinaryIO) -> None:
        self._text = io.TextIOWrapper(sink, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._text)

    def append(self, row: Sequence[Cell]) -> None:
        self._writer.writerow([self._cell(value) for value in row])

    def written(self) -> int:
        self._text.flush()
        return self._text.buffer.tell()

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the sink stays open: it is the caller's

    @staticmethod
    def _cell(value: Cell) -> str | int | float | Decimal:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
            return "'" + value
        return value


class _XlsxSheet:
    """One worksheet, written row by row (openpyxl's write-only mode); instants as naive
    UTC date-times (Excel has no time zones), text never taken for a formula."""

    def __init__(self, sink: BinaryIO, title: str) -> None:
        self._sink = sink
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title)

    def append(self, row: Sequence[Cell]) -> None:
        self._sheet.append([self._cell(value) for value in row])

    def written(self) -> int:
        return 0  # (rows wait in a temporary file until the workbook is saved)

    def close(self) -> None:
        self._book.save(self._sink)

    def _cell(self, value: Cell) -> object:
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None)
        if not isinstance(value, str):
            return value
        cell = WriteOnlyCell(self._sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # openpyxl reads "=…" as a formula otherwise
        return cell
