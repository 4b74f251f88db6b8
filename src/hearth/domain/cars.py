"""Owner car profiles and maintenance due dates: the rules, without I/O.

A member may tell a community about their car, in private: the model, the model year, the
purchase date, an approximate mileage (dated the day it was entered) and the last service
(its day, optionally its mileage). The model and the years of ownership are the
questionnaire's own answers (``model:<slug>``, ``owner-years:<bucket>``, domain/profile.py),
so that segments, exports, the member card and nudges read them like any answer.

The next service is due at the earlier of two dates: by time, the last service (else the
purchase) plus the interval's months; by distance, the day the estimated kilometres since the
last service reach the interval's kilometres, at the member's own pace (between their two
latest mileage entries, else their mileage over the days since purchase, else 40 km a day).
"""

from __future__ import annotations

import calendar
import enum
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from hearth.domain.errors import HearthError
from hearth.domain.nudges import QuietHours, send_time
from hearth.domain.profile import (
    DEFAULT_QUESTIONS,
    MAX_LABEL_LENGTH,
    BadQuestion,
    answer_tag,
    option_slug,
    parse_answer_tag,
)

MODEL_KEY = "model"  # the questionnaire's question keys the car profile answers
OWNER_YEARS_KEY = "owner-years"
OWNER_YEARS_BOUNDS = (1, 3, 5)  # full years owned where the next bucket begins
FIRST_YEAR = 1950  # the oldest model year and purchase date taken
MAX_MILEAGE_KM = 2_000_000
MAX_MODEL_LENGTH = MAX_LABEL_LENGTH

DEFAULT_KM_PER_DAY = Fraction(40)  # the pace assumed when the member's entries tell none
MIN_PACE_DAYS = 7  # two entries closer than this tell no pace
MAX_KM_PER_DAY = Fraction(300)  # a faster "pace" is a used car's odometer, not driving
SNOOZE_DAYS = 14
MAX_SNOOZES = 3  # then the reminder offers booking and stopping only
SEND_AT = time(10, 30)  # the local time reminders go out, outside the member's quiet hours
MAX_MODEL_INTERVALS = 20
MAX_BOOKING_URL = 256
INTERVAL_MONTHS = (1, 60)  # what operators may set, both included
INTERVAL_KM = (500, 100_000)


class CarField(enum.StrEnum):
    """What the member can set (short values: they travel in button data)."""

    MODEL = "model"
    YEAR = "year"
    PURCHASED = "bought"
    MILEAGE = "km"
    SERVICED = "serviced"
    SERVICE_MILEAGE = "skm"


class BadCarInput(HearthError):
    """What the member typed for ``field`` cannot be taken; ``reason`` says why."""

    def __init__(self, field: CarField, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        # format | range | future | early | above_current
        self.reason = reason


class BadServiceSetting(HearthError):
    """An operator's service setting cannot be used; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # months | km | url | model | too_many


class StaleReminder(HearthError):
    """A reminder's button about a due day that is no longer the car's (serviced since)."""


class NoMoreSnoozes(HearthError):
    """The member snoozed this reminder ``MAX_SNOOZES`` times already."""


class UnknownServiceRequest(HearthError):
    """No open service request of this number in a community the operator runs."""


class DueBy(enum.StrEnum):
    """Which limit makes a service due first."""

    TIME = "time"
    DISTANCE = "distance"


@dataclass(frozen=True, slots=True)
class Reading:
    """An odometer reading: kilometres on a day."""

    km: int
    on: date


@dataclass(frozen=True, slots=True)
class CarProfile:
    """One member's car in one community, and where their maintenance reminders stand.

    ``model`` is the model as the member typed it; the ``model:`` tag is what counts (the
    questionnaire may have changed it since). ``owner_years`` is the ``owner-years:`` tag
    last derived from the purchase date. ``reminded_due`` and ``reminded_round`` are the due
    day and snooze round last reminded about: a new due day, or a snooze that ran out,
    makes a new reminder.
    """

    community_id: int
    member_id: int
    model: str | None = None
    year: int | None = None
    purchased_on: date | None = None
    mileage: Reading | None = None
    previous_mileage: Reading | None = None
    serviced_on: date | None = None
    service_km: int | None = None
    reminders_on: bool = True
    snoozes: int = 0
    snoozed_until: date | None = None
    reminded_due: date | None = None
    reminded_round: int = 0
    owner_years: str | None = None

    @property
    def empty(self) -> bool:
        """Nothing about the car is known (reminder choices alone are no car)."""
        return (
            self.model is None
            and self.year is None
            and self.purchased_on is None
            and self.mileage is None
            and self.serviced_on is None
            and self.service_km is None
        )

    @property
    def can_be_reminded(self) -> bool:
        """Members who entered a last service or a mileage may get maintenance reminders."""
        return self.serviced_on is not None or self.mileage is not None


@dataclass(frozen=True, slots=True)
class ServiceInterval:
    """How often a car needs a service: every ``months`` or ``km``, whichever comes first."""

    months: int = 12
    km: int = 10_000


DEFAULT_INTERVAL = ServiceInterval()


@dataclass(frozen=True, slots=True)
class ModelInterval:
    """An operator's interval for one model, keyed by the model's tag slug."""

    slug: str
    label: str
    interval: ServiceInterval


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """A community's maintenance reminders: off until its operators turn them on (so that
    an upgrade sends nothing new), the default interval, per-model ones, a booking link."""

    enabled: bool = False
    interval: ServiceInterval = DEFAULT_INTERVAL
    models: tuple[ModelInterval, ...] = ()
    booking_url: str | None = None
    configured: bool = False  # stored by an operator (else the defaults)

    def interval_for(self, model_slug: str | None) -> ServiceInterval:
        """The model's own interval, else the community's."""
        found = next((each for each in self.models if each.slug == model_slug), None)
        return self.interval if found is None else found.interval


@dataclass(frozen=True, slots=True)
class ServiceDue:
    """When the next service is due (``on``, the earlier of the two), and why: the
    interval it was counted with and the member's pace."""

    on: date
    by_time: date | None
    by_distance: date | None
    km_per_day: Fraction
    interval: ServiceInterval = DEFAULT_INTERVAL

    @property
    def by(self) -> DueBy:
        return DueBy.TIME if self.by_time == self.on else DueBy.DISTANCE


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """A member pressed "Book a service" on a reminder: one per member and due day."""

    id: int
    community_id: int
    member_id: int
    due_on: date
    requested_at: datetime
    done_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ServiceRequestLine:
    """An open request as operators see it: who asked, with their car's model."""

    request: ServiceRequest
    first_name: str
    username: str | None
    model: str | None


SERVICE_REQUESTS_PAGE = 8


# -- what the member types


_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_KM = re.compile(r"(\d{1,3}(?:[ ,.]\d{3})+|\d+)\s*(?:km)?", re.IGNORECASE)


def parse_model(text: str) -> str:
    """The model as typed, spaces tidied; raises BadCarInput(MODEL, "format") when it is
    empty, longer than ``MAX_MODEL_LENGTH`` or has no letter or digit."""
    model = " ".join(text.split())
    if not model or len(model) > MAX_MODEL_LENGTH:
        raise BadCarInput(CarField.MODEL, "format")
    try:
        option_slug(model, MODEL_KEY)
    except BadQuestion:
        raise BadCarInput(CarField.MODEL, "format") from None
    return model


def parse_year(text: str, today: date) -> int:
    """A four-digit model year from ``FIRST_YEAR`` to next year; raises BadCarInput."""
    year = text.strip()
    if not re.fullmatch(r"\d{4}", year):
        raise BadCarInput(CarField.YEAR, "format")
    if not FIRST_YEAR <= int(year) <= today.year + 1:
        raise BadCarInput(CarField.YEAR, "range")
    return int(year)


def parse_day(text: str, today: date, which: CarField) -> date:
    """A day written YYYY-MM-DD, from ``FIRST_YEAR`` to ``today`` (the community's local
    day); raises BadCarInput(which, "format" | "future" | "early")."""
    match = _DAY.fullmatch(text.strip())
    if match is None:
        raise BadCarInput(which, "format")
    try:
        day = date(*(int(part) for part in match.groups()))
    except ValueError:
        raise BadCarInput(which, "format") from None
    if day > today:
        raise BadCarInput(which, "future")
    if day.year < FIRST_YEAR:
        raise BadCarInput(which, "early")
    return day


def parse_mileage(text: str, which: CarField) -> int:
    """Kilometres, from 0 to ``MAX_MILEAGE_KM``: ``23500``, ``23,500``, ``23 500 km``;
    raises BadCarInput(which, "format" | "range")."""
    match = _KM.fullmatch(text.strip())
    if match is None:
        raise BadCarInput(which, "format")
    km = int(re.sub(r"[ ,.]", "", match.group(1)))
    if km > MAX_MILEAGE_KM:
        raise BadCarInput(which, "range")
    return km


# -- changing a profile


def with_mileage(profile: CarProfile, km: int, today: date) -> CarProfile:
    """The profile with today's reading; the one before is kept to tell the member's pace
    (a reading lower than the last one is a correction: the pace starts afresh)."""
    last = profile.mileage
    previous = profile.previous_mileage
    if last is not None and km < last.km:
        previous = None
    elif last is not None and last.on < today:
        previous = last
    return replace(profile, mileage=Reading(km, today), previous_mileage=previous)


def with_service(profile: CarProfile, serviced_on: date) -> CarProfile:
    """A new last service re-arms the reminders: snoozes start afresh (a member who
    stopped them keeps them stopped)."""
    changed = serviced_on != profile.serviced_on
    moved = changed and profile.serviced_on is not None  # another service: its mileage goes
    return replace(
        profile,
        serviced_on=serviced_on,
        service_km=None if moved else profile.service_km,
        snoozes=0 if changed else profile.snoozes,
        snoozed_until=None if changed else profile.snoozed_until,
    )


def check_service_km(profile: CarProfile, km: int) -> int:
    """The mileage at the last service, which cannot exceed the mileage entered since it;
    raises BadCarInput(SERVICE_MILEAGE, "above_current")."""
    current = profile.mileage
    if (
        current is not None
        and profile.serviced_on is not None
        and current.on >= profile.serviced_on
        and km > current.km
    ):
        raise BadCarInput(CarField.SERVICE_MILEAGE, "above_current")
    return km


def cleared(profile: CarProfile, which: CarField) -> CarProfile:
    """The profile without ``which`` (the mileage goes with its history)."""
    if which is CarField.MODEL:
        return replace(profile, model=None)
    if which is CarField.YEAR:
        return replace(profile, year=None)
    if which is CarField.PURCHASED:
        return replace(profile, purchased_on=None)
    if which is CarField.MILEAGE:
        return replace(profile, mileage=None, previous_mileage=None)
    if which is CarField.SERVICED:
        return replace(profile, serviced_on=None, service_km=None, snoozes=0, snoozed_until=None)
    return replace(profile, service_km=None)


# -- the questionnaire's tags


def model_tag(model: str) -> str:
    """The questionnaire's tag for a model: ``model:<slug>`` ("Model Y" → ``model:model-y``,
    "SUV" → ``model:suv``, the questionnaire's own option)."""
    return answer_tag(MODEL_KEY, option_slug(model, MODEL_KEY))


def answer_of(key: str, tags: Iterable[str]) -> str | None:
    """The slug of the member's answer to the question ``key``, if they have one."""
    for tag in tags:
        parsed = parse_answer_tag(tag)
        if parsed is not None and parsed[0] == key:
            return parsed[1]
    return None


def tags_of_key(key: str, tags: Iterable[str]) -> list[str]:
    """The member's answer tags of the question ``key``."""
    return [tag for tag in tags if (parsed := parse_answer_tag(tag)) and parsed[0] == key]


def years_owned(purchased_on: date, today: date) -> int:
    """Full years from the purchase to ``today`` (a 29 February purchase has its
    anniversary on 28 February)."""
    years = today.year - purchased_on.year
    anniversary = _same_day_in(purchased_on, today.year)
    return max(years - (today < anniversary), 0)


def owner_years_tag(purchased_on: date, today: date) -> str:
    """The questionnaire's ``owner-years:`` answer for a purchase: less than a year, 1-3,
    3-5, more than 5 (its options, in order)."""
    options = _owner_years_question_options()
    owned = years_owned(purchased_on, today)
    position = sum(1 for bound in OWNER_YEARS_BOUNDS if owned >= bound)
    return answer_tag(OWNER_YEARS_KEY, options[position])


def _owner_years_question_options() -> tuple[str, ...]:
    question = next(each for each in DEFAULT_QUESTIONS if each.key == OWNER_YEARS_KEY)
    slugs = tuple(option.slug for option in question.options)
    assert len(slugs) == len(OWNER_YEARS_BOUNDS) + 1
    return slugs


# -- when the next service is due


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter
    (31 January + 1 month → 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def km_per_day(profile: CarProfile) -> Fraction:
    """The member's pace in km a day: between their two latest readings, else their
    latest reading over the days since purchase (a car bought new), else
    ``DEFAULT_KM_PER_DAY``. Entries less than ``MIN_PACE_DAYS`` apart, or a pace above
    ``MAX_KM_PER_DAY`` (a used car's odometer), tell nothing."""
    last, previous = profile.mileage, profile.previous_mileage
    spans: list[tuple[int, int]] = []  # (km, days)
    if last is not None and previous is not None and last.km >= previous.km:
        spans.append((last.km - previous.km, (last.on - previous.on).days))
    if last is not None and profile.purchased_on is not None:
        spans.append((last.km, (last.on - profile.purchased_on).days))
    for km, days in spans:
        if days >= MIN_PACE_DAYS and Fraction(km, days) <= MAX_KM_PER_DAY:
            return Fraction(km, days)
    return DEFAULT_KM_PER_DAY


def next_service(profile: CarProfile, interval: ServiceInterval) -> ServiceDue | None:
    """When the car's next service is due, or None for a member who entered neither a last
    service nor a mileage.

    By time: the last service (else the purchase) + ``interval.months``. By distance: the
    day the kilometres since the last service reach ``interval.km`` at ``km_per_day``; the
    kilometres since it are the latest reading minus the service's mileage when both are
    known, else counted from the service day; without a service, from the last multiple of
    ``interval.km`` the odometer passed (a car serviced on schedule).
    """
    if not profile.can_be_reminded:
        return None
    base = profile.serviced_on or profile.purchased_on
    by_time = add_months(base, interval.months) if base is not None else None
    pace = km_per_day(profile)
    by_distance = _due_by_distance(profile, interval.km, pace) if pace > 0 else None
    found = [day for day in (by_time, by_distance) if day is not None]
    if not found:
        return None
    return ServiceDue(min(found), by_time, by_distance, pace, interval)


def _due_by_distance(profile: CarProfile, interval_km: int, pace: Fraction) -> date | None:
    reading, serviced_on = profile.mileage, profile.serviced_on
    if serviced_on is not None:
        if (
            reading is not None
            and profile.service_km is not None
            and reading.on >= serviced_on
            and reading.km >= profile.service_km
        ):
            left = interval_km - (reading.km - profile.service_km)
            return max(_after(reading.on, left, pace), serviced_on)
        return _after(serviced_on, interval_km, pace)
    if reading is None:
        return None
    return _after(reading.on, interval_km - reading.km % interval_km, pace)


def _after(day: date, km: int, pace: Fraction) -> date:
    """The day ``km`` more kilometres are driven at ``pace`` (a whole day, rounded up; a
    negative distance was passed that many days before)."""
    return day + timedelta(days=math.ceil(Fraction(km) / pace))


# -- reminding


def reminder_round(profile: CarProfile, due: ServiceDue | None, today: date) -> int | None:
    """The round (snoozes so far) of the reminder to send about ``due`` on ``today``; None
    when none is owed: off, not due yet, snoozed, or sent already for this round."""
    if due is None or not profile.reminders_on or due.on > today:
        return None
    if profile.snoozed_until is not None and today < profile.snoozed_until:
        return None
    if profile.reminded_due == due.on and profile.reminded_round >= profile.snoozes:
        return None
    return profile.snoozes


def reminder_key(community_id: int, member_id: int, due_on: date, round_: int) -> str:
    """The outbox key of a reminder: one per member, due day and snooze."""
    key = f"service-due:{community_id}:{member_id}:{due_on.isoformat()}"
    return key if round_ == 0 else f"{key}:{round_}"


def reminder_times(
    now: datetime, timezone: str, quiet: QuietHours
) -> tuple[date, datetime, datetime] | None:
    """When a reminder decided at ``now`` goes out: the member's local day of sending, the
    moment (``SEND_AT``, or the first half hour after their quiet hours; today if it is
    still ahead, else tomorrow) and the deadline (their quiet hours' next start, at most
    12 hours later): a backed-up outbox drops it rather than send it at night or days late.
    None when their quiet hours cover every hour."""
    local_today = now.astimezone(ZoneInfo(timezone)).date()
    for day in (local_today, local_today + timedelta(days=1)):
        moment = send_time(day, timezone, quiet, None, SEND_AT)
        if moment is not None and moment >= now:
            quiet_from = quiet.next_start(moment, timezone)
            latest = moment + timedelta(hours=12)
            return day, moment, latest if quiet_from is None else min(latest, quiet_from)
    return None


def snoozed(profile: CarProfile, today: date) -> CarProfile:
    """The member asked to be reminded in ``SNOOZE_DAYS`` days."""
    return replace(
        profile,
        snoozes=profile.snoozes + 1,
        snoozed_until=today + timedelta(days=SNOOZE_DAYS),
    )


def can_snooze(profile: CarProfile) -> bool:
    return profile.snoozes < MAX_SNOOZES


# -- operators' settings


def parse_months(text: str) -> int:
    """Months between services; raises BadServiceSetting("months")."""
    return _bounded(text, INTERVAL_MONTHS, "months")


def parse_km(text: str) -> int:
    """Kilometres between services; raises BadServiceSetting("km")."""
    try:
        km = parse_mileage(text, CarField.MILEAGE)
    except BadCarInput:
        raise BadServiceSetting("km") from None
    return _bounded(str(km), INTERVAL_KM, "km")


def _bounded(text: str, bounds: tuple[int, int], reason: str) -> int:
    if not re.fullmatch(r"\d{1,7}", text.strip()):
        raise BadServiceSetting(reason)
    value = int(text)
    if not bounds[0] <= value <= bounds[1]:
        raise BadServiceSetting(reason)
    return value


def parse_booking_url(text: str) -> str | None:
    """An https link to book a service (None for ``off``); raises BadServiceSetting("url")."""
    url = text.strip()
    if url.casefold() == "off":
        return None
    parts = urlsplit(url)
    if (
        parts.scheme != "https"
        or not parts.hostname
        or len(url) > MAX_BOOKING_URL
        or any(character.isspace() for character in url)
    ):
        raise BadServiceSetting("url")
    return url


def with_model_interval(
    settings: ServiceSettings, model: str, interval: ServiceInterval
) -> ServiceSettings:
    """``settings`` with ``model``'s own interval (replacing an earlier one of the same
    model); raises BadServiceSetting("model" | "too_many")."""
    try:
        label = parse_model(model)
    except BadCarInput:
        raise BadServiceSetting("model") from None
    slug = option_slug(label, MODEL_KEY)
    others = tuple(each for each in settings.models if each.slug != slug)
    if len(others) >= MAX_MODEL_INTERVALS:
        raise BadServiceSetting("too_many")
    return replace(settings, models=(*others, ModelInterval(slug, label, interval)))


def without_model_interval(settings: ServiceSettings, model: str) -> ServiceSettings:
    """``settings`` without ``model``'s own interval; raises BadServiceSetting("model")."""
    slug = _slug_or_none(model)
    kept = tuple(each for each in settings.models if each.slug != slug)
    if len(kept) == len(settings.models):
        raise BadServiceSetting("model")
    return replace(settings, models=kept)


def _slug_or_none(model: str) -> str | None:
    try:
        return option_slug(model, MODEL_KEY)
    except BadQuestion:
        return None


def _same_day_in(day: date, year: int) -> date:
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def stored_models(raw: Mapping[str, object]) -> tuple[ModelInterval, ...]:
    """Per-model intervals from their stored JSON (``{slug: [label, months, km]}``);
    entries that do not read as one are skipped."""
    found: list[ModelInterval] = []
    for slug, value in raw.items():
        if isinstance(value, list) and len(value) == 3:
            label, months, km = value
            if isinstance(label, str) and isinstance(months, int) and isinstance(km, int):
                found.append(ModelInterval(slug, label, ServiceInterval(months, km)))
    return tuple(found)
