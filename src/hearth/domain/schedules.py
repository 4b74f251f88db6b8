"""When announcements run: schedules in a community's local time, parsed from what operators
write, the instants they fall on, and what to do about instants missed while the bot was down.

A schedule is a local wall time plus a rule for the days: one date, every day, some days
of the week, or one day of the month. Each day it matches yields exactly one instant: a
wall time that does not exist (the spring-forward gap) runs at the same offset as just
before it, an ambiguous one (fall back) runs at its first occurrence.
"""

from __future__ import annotations

import calendar
import enum
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hearth.domain.errors import HearthError

LAST_DAY = -1  # day_of_month of "the last day of the month"
MAX_SKIPPED_RECORDED = 100  # a long outage records at most this many skipped runs
_LOOKBACK = timedelta(days=400)  # catch-up never looks further back than this


class Frequency(enum.StrEnum):
    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A local wall time and the days it applies to (all in the community's time zone)."""

    frequency: Frequency
    at: time
    on_date: date | None = None  # ONCE
    weekdays: frozenset[int] = field(default_factory=frozenset)  # WEEKLY: 0 is Monday
    day_of_month: int | None = None  # MONTHLY: 1-31 (clamped to short months) or LAST_DAY

    @property
    def recurring(self) -> bool:
        return self.frequency is not Frequency.ONCE

    def spec(self) -> str:
        """A canonical English form that ``parse_schedule`` reads back (stored as such)."""
        clock = f"{self.at:%H:%M}"
        if self.frequency is Frequency.ONCE:
            assert self.on_date is not None
            return f"{self.on_date.isoformat()} {clock}"
        if self.frequency is Frequency.DAILY:
            return f"every day {clock}"
        if self.frequency is Frequency.WEEKLY:
            days = ",".join(WEEKDAY_CODES[day] for day in sorted(self.weekdays))
            return f"every {days} {clock}"
        if self.day_of_month == LAST_DAY:
            return f"last day of the month {clock}"
        return f"monthly {self.day_of_month} {clock}"

    def matches(self, day: date) -> bool:
        """Whether the schedule runs on this local day."""
        if self.frequency is Frequency.ONCE:
            return day == self.on_date
        if self.frequency is Frequency.DAILY:
            return True
        if self.frequency is Frequency.WEEKLY:
            return day.weekday() in self.weekdays
        assert self.day_of_month is not None
        last = calendar.monthrange(day.year, day.month)[1]
        wanted = last if self.day_of_month == LAST_DAY else min(self.day_of_month, last)
        return day.day == wanted


class ScheduleProblem(enum.StrEnum):
    """Why a schedule was refused; each has its own translated explanation."""

    EMPTY = "empty"
    NO_TIME = "no_time"  # no time of day found
    BAD_TIME = "bad_time"  # 25:00, 9:75, 13pm
    UNKNOWN_DAYS = "unknown_days"  # the day part is not understood
    BAD_DATE = "bad_date"  # 2026-02-30
    BAD_DAY_OF_MONTH = "bad_day_of_month"  # the 32nd
    IN_THE_PAST = "in_the_past"  # a one-off whose time has gone


class InvalidSchedule(HearthError):
    def __init__(self, problem: ScheduleProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


# -- parsing

_EN_WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WORKING_DAYS = frozenset(range(5))
_WEEKEND = frozenset({5, 6})

_CLOCK = re.compile(r"(?<![\d-])(\d{1,2}):(\d{2})\s*(am|pm)?(?![\d:])")
_HOUR_MERIDIEM = re.compile(r"(?<![\d:-])(\d{1,2})\s*(am|pm)\b")
_ZH_CLOCK = re.compile(
    r"(上午|早上|中午|下午|晚上)?\s*(\d{1,2})\s*[点點时時](?:\s*(半|\d{1,2})\s*分?)?"
)
_ISO_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号號]?")
_ZH_MONTH_DAY = re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]")
_PREPOSITIONS = re.compile(r"\b(?:at|on|the)\b")
_EN_DAY_OF_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?")
_ZH_DAY_OF_MONTH = re.compile(r"(\d{1,2})\s*[日号號]")
_FILLER = re.compile(r"\b(?:at|on|the|of|each|every|and|in)\b|[,，、和及;]")


def parse_schedule(text: str, *, today: date) -> Schedule:
    """Read a schedule written in English or Chinese; ``today`` is the community's local date.

    Understood forms (the time of day is always required, 24-hour or with am/pm):
    ``2026-12-24 18:00``, ``today 18:00``, ``tomorrow 9am``; ``every day 08:30``;
    ``every Monday 09:00``, ``every mon, thu 19:30``, ``every weekday 09:00``,
    ``weekends 10:00``; ``first day of the month 10:30``, ``last day of the month 18:00``,
    ``every month on the 15th 12:00``, ``monthly 15 12:00``; and ``2026年12月24日 18:00``,
    ``明天 9点``, ``每天 08:30``, ``每周一 09:00``, ``每周一、四 19:30``, ``工作日 9:00``,
    ``每月1日 10:30``, ``每月最后一天 18:00``. Raises ``InvalidSchedule``.
    """
    normalised = unicodedata.normalize("NFKC", text).strip().lower()
    normalised = re.sub(r"\s+", " ", normalised)
    if not normalised:
        raise InvalidSchedule(ScheduleProblem.EMPTY)
    at, rest = _take_time(normalised)
    return _days(rest.strip(), at, today)


def _take_time(text: str) -> tuple[time, str]:
    """The time of day, and the text without it."""
    for pattern in (_CLOCK, _HOUR_MERIDIEM):
        match = pattern.search(text)
        if match is None:
            continue
        hour = int(match.group(1))
        minute = int(match.group(2)) if pattern is _CLOCK else 0
        meridiem = match.group(3) if pattern is _CLOCK else match.group(2)
        return _clock(hour, minute, meridiem), text[: match.start()] + " " + text[match.end() :]
    match = _ZH_CLOCK.search(text)
    if match is not None:
        part, hour, minutes = match.group(1), int(match.group(2)), match.group(3)
        minute = 30 if minutes == "半" else int(minutes or 0)
        afternoon = part in ("下午", "晚上") and 1 <= hour <= 11
        if afternoon or (part == "中午" and hour <= 2):
            hour += 12
        return _clock(hour, minute, None), text[: match.start()] + " " + text[match.end() :]
    raise InvalidSchedule(ScheduleProblem.NO_TIME)


def _clock(hour: int, minute: int, meridiem: str | None) -> time:
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise InvalidSchedule(ScheduleProblem.BAD_TIME)
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise InvalidSchedule(ScheduleProblem.BAD_TIME)
    return time(hour, minute)


def _days(text: str, at: time, today: date) -> Schedule:
    compact = _PREPOSITIONS.sub(" ", text).replace(" ", "")
    match = _ISO_DATE.search(text)
    if match is not None:
        day = _date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if _words(text[: match.start()] + text[match.end() :]):
            raise InvalidSchedule(ScheduleProblem.UNKNOWN_DAYS)
        return Schedule(Frequency.ONCE, at, on_date=day)
    match = _ZH_MONTH_DAY.fullmatch(compact)
    if match is not None:  # 12月24日: the next such day
        month, day_number = int(match.group(1)), int(match.group(2))
        day = _date(today.year, month, day_number)
        if day < today:
            day = _date(today.year + 1, month, day_number)
        return Schedule(Frequency.ONCE, at, on_date=day)
    if compact in ("today", "今天", "今日"):
        return Schedule(Frequency.ONCE, at, on_date=today)
    if compact in ("tomorrow", "明天", "明日"):
        return Schedule(Frequency.ONCE, at, on_date=today + timedelta(days=1))
    if compact in ("everyday", "daily", "eachday", "每天", "每日", "天天"):
        return Schedule(Frequency.DAILY, at)
    if compact in ("everyweekday", "weekdays", "每个工作日", "工作日", "每工作日"):
        return Schedule(Frequency.WEEKLY, at, weekdays=_WORKING_DAYS)
    if compact in ("everyweekend", "weekends", "周末", "每周末", "每个周末"):
        return Schedule(Frequency.WEEKLY, at, weekdays=_WEEKEND)
    if "month" in text or "月" in text:
        return Schedule(Frequency.MONTHLY, at, day_of_month=_day_of_month(text))
    weekdays = _english_weekdays(text) or _chinese_weekdays(compact)
    if weekdays:
        return Schedule(Frequency.WEEKLY, at, weekdays=weekdays)
    raise InvalidSchedule(ScheduleProblem.UNKNOWN_DAYS)


def _date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidSchedule(ScheduleProblem.BAD_DATE) from None


def _words(text: str) -> list[str]:
    return _FILLER.sub(" ", text).split()


def _day_of_month(text: str) -> int:
    words = _FILLER.sub(" ", text).replace("monthly", "month").split()
    if any(marker in text for marker in ("最后一天", "月底", "月末")) or "last" in words:
        return LAST_DAY
    if any(marker in text for marker in ("第一天", "月初")) or "first" in words:
        return 1
    zh = _ZH_DAY_OF_MONTH.search(text)
    numbers = [zh.group(1)] if zh else []
    for word in words:
        if word in ("month", "day", "months"):
            continue
        number = _EN_DAY_OF_MONTH.fullmatch(word)
        if number is None and not zh and not re.fullmatch(r"每个?月|月", word):
            raise InvalidSchedule(ScheduleProblem.UNKNOWN_DAYS)
        if number is not None:
            numbers.append(number.group(1))
    if len(numbers) != 1:
        raise InvalidSchedule(ScheduleProblem.UNKNOWN_DAYS)
    day = int(numbers[0])
    if not 1 <= day <= 31:
        raise InvalidSchedule(ScheduleProblem.BAD_DAY_OF_MONTH)
    return day


def _english_weekdays(text: str) -> frozenset[int]:
    words = _words(text.replace("weekly", " "))
    found: set[int] = set()
    for word in words:
        day = _EN_WEEKDAYS.get(word.removesuffix("s")) if word.endswith("s") else None
        day = day if day is not None else _EN_WEEKDAYS.get(word)
        if day is None:
            return frozenset()
        found.add(day)
    return frozenset(found)


def _chinese_weekdays(compact: str) -> frozenset[int]:
    match = re.fullmatch(r"每?个?(?:周|星期|礼拜|禮拜)(.+)", compact)
    if match is None:
        return frozenset()
    names = re.sub(r"[、,，和及]|周|星期|礼拜|禮拜", "", match.group(1))
    if not names or any(name not in _ZH_WEEKDAYS for name in names):
        return frozenset()
    return frozenset(_ZH_WEEKDAYS[name] for name in names)


# -- instants


def instant_on(day: date, at: time, timezone: str) -> datetime:
    """The UTC instant of a local wall time on a local day."""
    local = datetime.combine(day, at, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def next_run(schedule: Schedule, after: datetime, timezone: str) -> datetime | None:
    """The first instant of the schedule strictly after ``after`` (None: a one-off that passed)."""
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if schedule.frequency is Frequency.ONCE:
        assert schedule.on_date is not None
        instant = instant_on(schedule.on_date, schedule.at, timezone)
        return instant if instant > after else None
    day = after.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)
    for _ in range(64):  # a monthly schedule matches within 31 days
        if schedule.matches(day):
            instant = instant_on(day, schedule.at, timezone)
            if instant > after:
                return instant
        day += timedelta(days=1)
    raise AssertionError(f"no run of {schedule.spec()} within 64 days")  # pragma: no cover


def runs_between(
    schedule: Schedule, start: datetime, end: datetime, timezone: str
) -> list[datetime]:
    """Every instant of the schedule after ``start`` and no later than ``end``, oldest first."""
    found: list[datetime] = []
    moment = next_run(schedule, start, timezone)
    while moment is not None and moment <= end:
        found.append(moment)
        moment = next_run(schedule, moment, timezone)
    return found


def first_run(schedule: Schedule, now: datetime, timezone: str) -> datetime:
    """When a new schedule first runs; a one-off in the past is refused."""
    moment = next_run(schedule, now, timezone)
    if moment is None:
        raise InvalidSchedule(ScheduleProblem.IN_THE_PAST)
    return moment


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What to do with the instants that came due since the last look."""

    run: datetime | None  # the one instant to run now (on time or late), if any
    skipped: tuple[datetime, ...]  # instants too late to run, to record as skipped


def catch_up(
    schedule: Schedule,
    timezone: str,
    *,
    since: datetime,
    now: datetime,
    grace: timedelta,
) -> CatchUp:
    """Decide about the instants after ``since`` (the last one handled) up to ``now``.

    The latest instant no older than ``grace`` runs (late if need be); every other one is
    skipped — a backlog never turns into a burst of repeats. At most
    ``MAX_SKIPPED_RECORDED`` of the most recent skipped instants are returned.
    """
    start = max(since, now - _LOOKBACK)
    due = runs_between(schedule, start, now, timezone)
    run = due[-1] if due and now - due[-1] <= grace else None
    skipped = tuple(moment for moment in due if moment != run)
    return CatchUp(run=run, skipped=skipped[-MAX_SKIPPED_RECORDED:])


def schedule_from_spec(spec: str) -> Schedule:
    """The schedule a stored ``Schedule.spec()`` describes (canonical specs are absolute)."""
    return parse_schedule(spec, today=date(2000, 1, 1))
