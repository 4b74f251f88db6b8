"""Honour boards: a metric the operators define ("Kilometres driven", in km), the values
members report for the month, and the month's board with titles for the top three.

Amounts are whole hundredths (12.5 km is 1250): exact sums on every database. A report
belongs to the month of the community's time zone in which it was made; a board sums a
metric's approved reports of one month per member.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hearth.domain.errors import HearthError
from hearth.domain.rate_limits import Limit

MAX_NAME = 48  # a metric's name: a board's heading and a button's label
MAX_UNIT = 12
CENTS = 100  # amounts are stored in hundredths
MAX_AMOUNT = 999_999_999 * CENTS  # the largest value a report may carry at all
DEFAULT_MAX_AMOUNT = 1_000_000 * CENTS  # a metric's bound per report unless set
REPORT_LIMITS = (Limit(10, timedelta(days=1)),)  # reports per member: operators review them
BOARD_SIZE = 10
TITLED_RANKS = 3  # 🥇 🥈 🥉
BOARD_HOUR = 10  # the finished month's board goes to the group from 10:00 local on the 1st
BOARD_GRACE_DAYS = 3  # … and no later than the 3rd (a bot down for longer skips it)
_FLAG = re.compile(r"([A-Za-z]+)=(.*)")
_FLAGS = frozenset({"unit", "approval", "max", "post"})
_YES_NO = {"yes": True, "no": False}
_AMOUNT = re.compile(r"(\d{1,9})(?:[.,](\d{1,2}))?")
_VALUE = re.compile(r"(\d{1,9}(?:[.,]\d{1,2})?)([^\W\d_].*)?")  # a value, maybe with a unit
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_REFERENCE = re.compile(r"#(\d{1,18})")


class ReportStatus(enum.StrEnum):
    PENDING = "pending"  # waits for an operator (metrics that need approval)
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class MetricDraft:
    """An operator's /honour_new, understood."""

    name: str
    unit: str
    needs_approval: bool
    max_amount: int  # hundredths, per report
    post_board: bool  # the finished month's board goes to the group


@dataclass(frozen=True, slots=True)
class HonourMetric:
    id: int
    community_id: int
    name: str
    unit: str
    needs_approval: bool
    max_amount: int
    post_board: bool
    active: bool


@dataclass(frozen=True, slots=True)
class ReportDraft:
    """A member's /report, understood: which metric, how much, the unit they typed."""

    reference: str  # the metric's name or "#<number>"
    amount: int  # hundredths
    unit: str | None


@dataclass(frozen=True, slots=True)
class NewReport:
    """A report about to be stored; ``message_id`` is its natural key with the member."""

    metric: HonourMetric
    member_id: int
    month: str
    amount: int
    photo: str | None
    message_id: int
    status: ReportStatus


@dataclass(frozen=True, slots=True)
class HonourReport:
    id: int
    metric_id: int
    community_id: int
    member_id: int
    month: str  # "YYYY-MM" in the community's time zone
    amount: int
    status: ReportStatus
    photo: str | None
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class Standing:
    """A member's place on a board: equal totals share a rank (1, 1, 3)."""

    rank: int
    member_id: int
    name: str
    total: int  # hundredths


@dataclass(frozen=True, slots=True)
class Board:
    metric: HonourMetric
    month: str
    standings: list[Standing]


class InvalidMetricSpec(HearthError):
    """A part of /honour_new could not be understood; ``part`` names it."""

    def __init__(self, part: str, value: str = "") -> None:
        super().__init__(part, value)
        self.part = part
        self.value = value


class InvalidReport(HearthError):
    """A /report that could not be understood or is out of bounds; ``part`` names why."""

    def __init__(self, part: str, metric: HonourMetric | None = None) -> None:
        super().__init__(part)
        self.part = part  # usage | amount | too_large | unit
        self.metric = metric


class UnknownMetric(HearthError):
    """No active metric by this name or number in the member's (or operator's) communities."""

    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference


class AmbiguousMetric(HearthError):
    """Several communities of the member have a metric by this name."""

    def __init__(self, metrics: Sequence[HonourMetric]) -> None:
        super().__init__(len(metrics))
        self.metrics = list(metrics)


class MetricExists(HearthError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class UnknownReport(HearthError):
    def __init__(self, report_id: int) -> None:
        super().__init__(report_id)
        self.report_id = report_id


class ReportSettled(HearthError):
    """The report was approved or rejected already (by another operator, perhaps)."""

    def __init__(self, status: ReportStatus) -> None:
        super().__init__(status)
        self.status = status


class InvalidMonth(HearthError):
    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


# -- /honour_new <name…> [unit=km] [approval=yes|no] [max=N] [post=yes|no]


def parse_metric_command(args: str | None) -> MetricDraft:
    """Understand /honour_new; raises InvalidMetricSpec naming the bad part. The flags may
    stand anywhere; every other word belongs to the name."""
    flags: dict[str, str] = {}
    name_words: list[str] = []
    for word in (args or "").split():
        flag = _FLAG.fullmatch(word)
        if flag is None:
            name_words.append(word)
            continue
        key, value = flag.group(1).lower(), flag.group(2)
        if key not in _FLAGS or key in flags:
            raise InvalidMetricSpec("flag", word)
        flags[key] = value
    name = " ".join(name_words)
    if not name:
        raise InvalidMetricSpec("usage")
    if len(name) > MAX_NAME or name.startswith("#"):
        raise InvalidMetricSpec("name", name)
    unit = flags.get("unit", "")
    if len(unit) > MAX_UNIT or any(character.isdigit() for character in unit):
        raise InvalidMetricSpec("unit", unit)
    max_amount = DEFAULT_MAX_AMOUNT
    if "max" in flags:
        try:
            max_amount = parse_amount(flags["max"])
        except InvalidReport:
            raise InvalidMetricSpec("max", flags["max"]) from None
    return MetricDraft(
        name=name,
        unit=unit,
        needs_approval=_yes_no(flags, "approval", default=False),
        max_amount=max_amount,
        post_board=_yes_no(flags, "post", default=True),
    )


def _yes_no(flags: dict[str, str], key: str, *, default: bool) -> bool:
    if key not in flags:
        return default
    value = flags[key].lower()
    if value not in _YES_NO:
        raise InvalidMetricSpec(key, flags[key])
    return _YES_NO[value]


def name_key(name: str) -> str:
    """What two metric names must not share in one community: the name, case-folded."""
    return " ".join(name.split()).casefold()


# -- /report <metric> <value> [unit]


def parse_amount(word: str) -> int:
    """A positive value with at most two decimals ("12", "12.5", "12,5") in hundredths;
    raises InvalidReport("amount")."""
    match = _AMOUNT.fullmatch(word)
    if match is None:
        raise InvalidReport("amount")
    amount = int(match.group(1)) * CENTS + int((match.group(2) or "0").ljust(2, "0"))
    if amount <= 0:
        raise InvalidReport("amount")
    return amount


def parse_report(args: str | None) -> ReportDraft:
    """Understand /report: the metric (name or #number), then the value, maybe followed by
    its unit ("1234km" or "1234 km"); raises InvalidReport("usage" or "amount")."""
    words = (args or "").split()
    for index in range(len(words) - 1, 0, -1):
        match = _VALUE.fullmatch(words[index])
        trailing = words[index + 1 :]
        if match is None or len(trailing) > 1 or (trailing and match.group(2)):
            continue
        unit = match.group(2) or (trailing[0] if trailing else None)
        return ReportDraft(
            reference=" ".join(words[:index]), amount=parse_amount(match.group(1)), unit=unit
        )
    raise InvalidReport("usage")


def metric_number(reference: str) -> int | None:
    """The number of a "#3" reference; None for a name."""
    match = _REFERENCE.fullmatch(reference.strip())
    return int(match.group(1)) if match else None


def check_report(draft: ReportDraft, metric: HonourMetric) -> None:
    """Raise InvalidReport when the value's unit is not the metric's or the value is out of
    the metric's bounds."""
    if draft.unit is not None and draft.unit.casefold() != metric.unit.casefold():
        raise InvalidReport("unit", metric)
    if draft.amount > metric.max_amount:
        raise InvalidReport("too_large", metric)


def format_amount(amount: int) -> str:
    """Hundredths as people write them: 123456 -> "1,234.56", 150 -> "1.5", 100 -> "1"."""
    whole, cents = divmod(amount, CENTS)
    if not cents:
        return f"{whole:,}"
    return f"{whole:,}.{cents:02d}".rstrip("0")


# -- months in the community's time zone


def month_of(instant: datetime, timezone: str) -> str:
    """The "YYYY-MM" of an aware instant in an IANA time zone."""
    return f"{instant.astimezone(ZoneInfo(timezone)):%Y-%m}"


def parse_month(word: str) -> str:
    """A "YYYY-MM" month; raises InvalidMonth."""
    match = _MONTH.fullmatch(word.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise InvalidMonth(word)
    return match.group(0)


def board_request(args: str | None) -> tuple[str, str | None]:
    """/honour's (metric reference, month or None): a last word shaped like "YYYY-MM" is the
    month; raises InvalidMonth for one that is not a real month."""
    words = (args or "").split()
    if len(words) > 1 and re.fullmatch(r"\d{4}-\d{1,2}", words[-1]):
        return " ".join(words[:-1]), parse_month(words[-1])
    return " ".join(words), None


def previous_month(month: str) -> str:
    first = date(int(month[:4]), int(month[5:]), 1)
    return f"{first - timedelta(days=1):%Y-%m}"


def board_due(now: datetime, timezone: str) -> str | None:
    """The finished month whose board goes to the group at ``now``: the previous month,
    from ``BOARD_HOUR`` on the 1st until the end of day ``BOARD_GRACE_DAYS``; else None."""
    local = now.astimezone(ZoneInfo(timezone))
    if local.day > BOARD_GRACE_DAYS or (local.day == 1 and local.hour < BOARD_HOUR):
        return None
    return previous_month(f"{local:%Y-%m}")


# -- boards


def rank(totals: Sequence[tuple[int, str, int]], size: int = BOARD_SIZE) -> list[Standing]:
    """The first ``size`` standings of (member id, name, total), highest total first; equal
    totals share a rank and keep the order they came in."""
    ordered = sorted(totals, key=lambda each: -each[2])
    standings: list[Standing] = []
    for position, (member_id, name, total) in enumerate(ordered[:size], start=1):
        tied = bool(standings) and standings[-1].total == total
        standings.append(Standing(standings[-1].rank if tied else position, member_id, name, total))
    return standings
