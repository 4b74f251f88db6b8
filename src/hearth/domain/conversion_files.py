"""Reading a business's file of conversions (CSV) into rows to import, or the problems of
each line.

The file is UTF-8 text (a byte-order mark is fine) with a header row; values are separated
by commas or semicolons. Columns, in any order and any case:
- ``telegram_id`` or ``phone`` (one of them per row), or one ``member`` column holding
  either: a Telegram user id (digits) or a phone number with its country code
  (``+86 138 1234 5678``; in a ``member`` column a phone starts with ``+`` or ``00``);
- ``date`` — ``YYYY-MM-DD``, not in the future;
- ``kind`` — ``service``, ``purchase`` or ``trade_in`` (``trade-in``, any case);
- ``amount`` (optional, 0 when empty) — a decimal with ``.`` and at most 2 decimals;
- ``ref`` (optional) — the business's own reference of the row.
Other columns are ignored. Line numbers are the file's own (the header is line 1).

A row's idempotency key is ``ref:<ref>`` when it has a reference, otherwise a short digest
of what it says (member, date, kind, amount): importing the same file again adds nothing.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from hearth.domain.conversions import ConversionKind
from hearth.domain.errors import HearthError
from hearth.domain.phones import normalise_phone

MAX_FILE_BYTES = 5_000_000  # tens of thousands of rows fit well within this
MAX_ROWS = 50_000
KEY_LIMIT = 64  # the stored key's length
REF_PREFIX = "ref:"
REF_LIMIT = KEY_LIMIT - len(REF_PREFIX)
AMOUNT_LIMIT = 10**11  # in whole units: no service visit or car costs a hundred billion
TELEGRAM_ID_LIMIT = 2**53  # Telegram ids fit in 52 bits
VALUE_SHOWN = 40  # characters of a bad value quoted back in a report

MEMBER_COLUMNS = ("telegram_id", "phone", "member")
REQUIRED_COLUMNS = ("date", "kind")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_AMOUNT = re.compile(r"(\d+)(?:\.(\d+))?", re.ASCII)


class FileProblem(enum.StrEnum):
    """Why a file as a whole cannot be read (nothing of it is imported)."""

    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    NO_HEADER = "no_header"  # the file is empty
    MISSING_COLUMNS = "missing_columns"  # detail: the columns the header lacks
    REPEATED_COLUMN = "repeated_column"  # detail: the column named twice
    NO_ROWS = "no_rows"
    TOO_MANY_ROWS = "too_many_rows"


class UnreadableConversionFile(HearthError):
    """The file cannot be read at all; ``detail`` names columns where it helps."""

    def __init__(self, problem: FileProblem, detail: str = "") -> None:
        super().__init__(problem, detail)
        self.problem = problem
        self.detail = detail


class RowProblem(enum.StrEnum):
    """What is wrong with one line."""

    NO_MEMBER = "no_member"  # neither a Telegram id nor a phone
    TWO_MEMBERS = "two_members"  # both: the row must name one member one way
    BAD_TELEGRAM_ID = "bad_telegram_id"
    BAD_PHONE = "bad_phone"
    NO_DATE = "no_date"
    BAD_DATE = "bad_date"
    FUTURE_DATE = "future_date"
    NO_KIND = "no_kind"
    BAD_KIND = "bad_kind"
    BAD_AMOUNT = "bad_amount"
    NEGATIVE_AMOUNT = "negative_amount"
    TOO_MANY_DECIMALS = "too_many_decimals"
    AMOUNT_TOO_LARGE = "amount_too_large"
    REF_TOO_LONG = "ref_too_long"
    REF_REUSED = "ref_reused"  # value: the line that used the reference for another row
    EXTRA_VALUES = "extra_values"  # more values than the header has columns


@dataclass(frozen=True, slots=True)
class Malformed:
    """One problem of one line; ``value`` is what the line says there (shortened)."""

    line: int
    problem: RowProblem
    value: str = ""


class MemberKeyKind(enum.StrEnum):
    TELEGRAM_ID = "telegram_id"
    PHONE = "phone"


@dataclass(frozen=True, slots=True)
class MemberKey:
    """How a row names its member: a Telegram id (digits) or a normalised phone number."""

    kind: MemberKeyKind
    value: str

    @property
    def telegram_id(self) -> int | None:
        return int(self.value) if self.kind is MemberKeyKind.TELEGRAM_ID else None


@dataclass(frozen=True, slots=True)
class ConversionLine:
    """A good row of the file, with its idempotency key."""

    line: int
    member: MemberKey
    kind: ConversionKind
    occurred_on: date
    amount_minor: int  # cents, fen: 1234.50 is 123450
    ref: str | None
    key: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A line that repeats an earlier line of the same file (counted once)."""

    line: int
    first_line: int


@dataclass(frozen=True, slots=True)
class ConversionFile:
    """What a file holds: ``read`` data rows (blank lines not counted), the distinct good
    ``rows``, the lines that repeat another and the problems of the malformed lines."""

    read: int
    rows: list[ConversionLine]
    duplicates: list[Duplicate]
    malformed: list[Malformed]

    @property
    def malformed_lines(self) -> int:
        return len({problem.line for problem in self.malformed})


def parse_conversions(content: bytes, *, today: date) -> ConversionFile:
    """The rows of a conversion file; dates after ``today`` (the community's local day) are
    refused. Raises ``UnreadableConversionFile`` when the file as a whole cannot be read."""
    if len(content) > MAX_FILE_BYTES:
        raise UnreadableConversionFile(FileProblem.TOO_LARGE)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableConversionFile(FileProblem.NOT_UTF8) from error
    records = _records(text)
    header = next(records, None)
    if header is None:
        raise UnreadableConversionFile(FileProblem.NO_HEADER)
    columns = _columns(header[1])
    reader = _FileReader(columns, today)
    read = 0
    for line, values in records:
        read += 1
        if read > MAX_ROWS:
            raise UnreadableConversionFile(FileProblem.TOO_MANY_ROWS, str(MAX_ROWS))
        reader.take(line, values)
    if not read:
        raise UnreadableConversionFile(FileProblem.NO_ROWS)
    return ConversionFile(read, reader.rows, reader.duplicates, reader.malformed)


def conversion_key(
    member: MemberKey, occurred_on: date, kind: ConversionKind, amount_minor: int, ref: str | None
) -> str:
    """``ref:<ref>`` for a row with a reference, else ``row:`` and a digest of the row."""
    if ref:
        return REF_PREFIX + ref
    said = f"{member.kind.value}:{member.value}|{occurred_on.isoformat()}|{kind.value}|"
    return "row:" + hashlib.sha256(f"{said}{amount_minor}".encode()).hexdigest()[:24]


def parse_kind(text: str) -> ConversionKind | None:
    """``service``, ``purchase``, ``trade_in`` in any case, with ``-`` or a space for ``_``."""
    wanted = re.sub(r"[\s-]+", "_", text.strip().lower())
    try:
        return ConversionKind(wanted)
    except ValueError:
        return None


def parse_amount(text: str) -> int | RowProblem:
    """An amount in minor units (``"1234.5"`` is 123450; empty is 0), or what is wrong."""
    text = text.strip()
    if not text:
        return 0
    negative = text.startswith("-")
    match = _AMOUNT.fullmatch(text.removeprefix("-"))
    if match is None:
        return RowProblem.BAD_AMOUNT
    if negative:
        return RowProblem.NEGATIVE_AMOUNT
    whole, cents = match.group(1), match.group(2) or ""
    if len(cents) > 2:
        return RowProblem.TOO_MANY_DECIMALS
    if int(whole) >= AMOUNT_LIMIT:
        return RowProblem.AMOUNT_TOO_LARGE
    return int(whole) * 100 + int(cents.ljust(2, "0"))


# -- the reading itself


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, its values) of every non-blank record."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    ended = 0  # the physical line the previous record ended on
    for values in reader:
        start, ended = ended + 1, reader.line_num
        if any(value.strip() for value in values):
            yield start, values


def _columns(header: list[str]) -> list[str]:
    """The header's names, normalised ("Telegram ID" is ``telegram_id``); checked."""
    names = [re.sub(r"[\s-]+", "_", name.strip().lower()) for name in header]
    for name in names:
        if name and names.count(name) > 1:
            raise UnreadableConversionFile(FileProblem.REPEATED_COLUMN, name)
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if not any(name in names for name in MEMBER_COLUMNS):
        missing.insert(0, "telegram_id or phone")
    if missing:
        raise UnreadableConversionFile(FileProblem.MISSING_COLUMNS, ", ".join(missing))
    return names


class _FileReader:
    """Takes the data rows one by one, keeping good rows, duplicates and problems."""

    def __init__(self, columns: list[str], today: date) -> None:
        self.columns = columns
        self.today = today
        self.rows: list[ConversionLine] = []
        self.duplicates: list[Duplicate] = []
        self.malformed: list[Malformed] = []
        self._seen: dict[str, ConversionLine] = {}

    def take(self, line: int, values: list[str]) -> None:
        fields = {name: value.strip() for name, value in zip(self.columns, values, strict=False)}
        problems: list[Malformed] = []
        extra = values[len(self.columns) :]
        if any(value.strip() for value in extra):
            problems.append(Malformed(line, RowProblem.EXTRA_VALUES, _shown(", ".join(extra))))
        member = _member(line, fields, problems)
        occurred_on = _date(line, fields.get("date", ""), self.today, problems)
        kind = _kind(line, fields.get("kind", ""), problems)
        amount = parse_amount(fields.get("amount", ""))
        if isinstance(amount, RowProblem):
            problems.append(Malformed(line, amount, _shown(fields.get("amount", ""))))
        ref = fields.get("ref", "") or None
        if ref is not None and len(ref) > REF_LIMIT:
            problems.append(Malformed(line, RowProblem.REF_TOO_LONG, _shown(ref)))
        if problems or member is None or occurred_on is None or kind is None:
            self.malformed += problems
            return
        assert isinstance(amount, int)
        key = conversion_key(member, occurred_on, kind, amount, ref)
        row = ConversionLine(line, member, kind, occurred_on, amount, ref, key)
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = row
            self.rows.append(row)
        elif _same(first, row):
            self.duplicates.append(Duplicate(line, first.line))
        else:
            self.malformed.append(Malformed(line, RowProblem.REF_REUSED, str(first.line)))


def _same(first: ConversionLine, row: ConversionLine) -> bool:
    return (first.member, first.kind, first.occurred_on, first.amount_minor) == (
        row.member,
        row.kind,
        row.occurred_on,
        row.amount_minor,
    )


def _member(line: int, fields: dict[str, str], problems: list[Malformed]) -> MemberKey | None:
    given = [(name, fields[name]) for name in MEMBER_COLUMNS if fields.get(name)]
    if not given:
        problems.append(Malformed(line, RowProblem.NO_MEMBER))
        return None
    if len(given) > 1:
        shown = " / ".join(value for _name, value in given)
        problems.append(Malformed(line, RowProblem.TWO_MEMBERS, _shown(shown)))
        return None
    column, value = given[0]
    if column == "member":
        column = "telegram_id" if value.isascii() and value.isdigit() else "phone"
    if column == "phone":
        phone = normalise_phone(value)
        if phone is None:
            problems.append(Malformed(line, RowProblem.BAD_PHONE, _shown(value)))
            return None
        return MemberKey(MemberKeyKind.PHONE, phone)
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < TELEGRAM_ID_LIMIT:
        problems.append(Malformed(line, RowProblem.BAD_TELEGRAM_ID, _shown(value)))
        return None
    return MemberKey(MemberKeyKind.TELEGRAM_ID, str(int(value)))


def _date(line: int, text: str, today: date, problems: list[Malformed]) -> date | None:
    if not text:
        problems.append(Malformed(line, RowProblem.NO_DATE))
        return None
    try:
        day = date.fromisoformat(text) if _DATE.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        problems.append(Malformed(line, RowProblem.BAD_DATE, _shown(text)))
        return None
    if day > today:
        problems.append(Malformed(line, RowProblem.FUTURE_DATE, text))
        return None
    return day


def _kind(line: int, text: str, problems: list[Malformed]) -> ConversionKind | None:
    if not text:
        problems.append(Malformed(line, RowProblem.NO_KIND))
        return None
    kind = parse_kind(text)
    if kind is None:
        problems.append(Malformed(line, RowProblem.BAD_KIND, _shown(text)))
    return kind


def _shown(value: str) -> str:
    value = value.strip()
    return value if len(value) <= VALUE_SHOWN else value[: VALUE_SHOWN - 1] + "…"
