"""Events: what an event is, RSVPs with capacity and a waitlist, attendance codes, NPS.

Pure rules only: every function takes ``now`` (and a random source where it needs one),
so that the dialog, the services and the tests agree on the same decisions.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hearth.domain.errors import HearthError
from hearth.domain.rfm import tag_slug

MAX_TITLE = 100
MAX_DESCRIPTION = 1000
MAX_PLACE = 200
MAX_CAPACITY = 100_000
MAX_POINTS = 10_000
MAX_COMMENT = 1000
DEFAULT_POINTS = 20  # what attending is worth unless the operator says otherwise
DEFAULT_DURATION = timedelta(hours=2)  # when the operator gives only a start
CHECKIN_OPENS_BEFORE = timedelta(hours=1)  # on-site check-in opens this long before the start
CHECKIN_CLOSES_AFTER = timedelta(hours=3)  # … and closes this long after the end
REMINDER_HOURS = (24, 1)  # going members are reminded this many hours before the start
LONGEST_EVENT = timedelta(days=14)
UNLIMITED_WORDS = frozenset({"no limit", "nolimit", "unlimited", "none", "∞", "不限", "无限"})

# Attendance codes: no 0/O, 1/I/L, 5/S or 2/Z, so that a code read off a screen is typed right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRTUVWXY346789"
CODE_LENGTH = 6
_CODE = re.compile(rf"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
_ATTENDANCE_PAYLOAD = re.compile(rf"a([{CODE_ALPHABET}]{{{CODE_LENGTH}}})")
_WHEN = re.compile(
    r"(?P<day>\d{4}-\d{2}-\d{2})[ T]+(?P<start>\d{1,2}:\d{2})"
    r"(?:\s*[-–~至到]\s*(?:(?P<end_day>\d{4}-\d{2}-\d{2})[ T]+)?(?P<end>\d{1,2}:\d{2}))?"
)
_END = re.compile(r"(?:(?P<day>\d{4}-\d{2}-\d{2})[ T]+)?(?P<time>\d{1,2}:\d{2})")


class EventStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Answer(enum.StrEnum):
    """What a member pressed on the card (short values: they travel in callback data)."""

    GOING = "g"
    MAYBE = "m"
    NOT_GOING = "n"


class RsvpStatus(enum.StrEnum):
    """Where a member stands for an event."""

    GOING = "going"
    WAITLISTED = "waitlisted"  # wanted to go when the event was full
    MAYBE = "maybe"
    NOT_GOING = "not_going"


REGISTERED = frozenset({RsvpStatus.GOING, RsvpStatus.WAITLISTED})


@dataclass(frozen=True, slots=True)
class Event:
    """A published event of one community; times in UTC."""

    id: int
    community_id: int
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None  # None: no limit
    registration_deadline: datetime
    points: int
    photo: str | None  # a Telegram file id
    code: str
    status: EventStatus
    card_message_id: int | None  # the card with the RSVP buttons in the group
    created_by: int | None = None
    tag: str | None = None  # the event's type as a tag slug (track-day); members who attend get it

    @property
    def cancelled(self) -> bool:
        return self.status is EventStatus.CANCELLED


@dataclass(frozen=True, slots=True)
class MemberEvent:
    """One event as one member took part in it: their answer, check-in and rating."""

    event: Event
    rsvp: RsvpStatus | None  # None: they never answered (checked in on site only)
    attended: bool
    rating: int | None  # 1–5, from the feedback they gave


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event an operator is composing; times in UTC."""

    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    registration_deadline: datetime
    points: int
    photo: str | None = None


@dataclass(frozen=True, slots=True)
class RsvpCounts:
    """How many members answered what."""

    going: int = 0
    waitlisted: int = 0
    maybe: int = 0
    not_going: int = 0

    def spots_left(self, capacity: int | None) -> int | None:
        return None if capacity is None else max(capacity - self.going, 0)


@dataclass(frozen=True, slots=True)
class Transition:
    """What an answer does to a member's RSVP."""

    status: RsvpStatus
    changed: bool
    frees_seat: bool  # a going member stepped back: the first on the waitlist moves up


# -- errors


class EventProblem(enum.StrEnum):
    """Why an RSVP or a check-in is refused."""

    UNKNOWN = "unknown"  # no such event (or not one the person may see)
    CANCELLED = "cancelled"
    REGISTRATION_CLOSED = "registration_closed"
    NOT_A_MEMBER = "not_a_member"
    STARTED = "started"  # answers change nothing once the event has begun
    NOT_ATTENDED = "not_attended"  # feedback is for those who checked in


class EventUnavailable(HearthError):
    def __init__(self, problem: EventProblem, event: Event | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.event = event


class UnknownEvent(HearthError):
    """An operator named an event that is not in a community they operate."""

    def __init__(self, event_id: int) -> None:
        super().__init__(event_id)
        self.event_id = event_id


class UnknownCode(HearthError):
    """No event has this attendance code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class CheckinClosed(HearthError):
    """The code is right, but its event's check-in is not open now."""

    def __init__(self, event: Event, *, too_early: bool, timezone: str = "UTC") -> None:
        super().__init__(event.id)
        self.event = event
        self.too_early = too_early
        self.timezone = timezone  # the community's, to show the window on its clock


class AlreadyAttended(HearthError):
    """The member's attendance at this event is recorded already (and was paid once)."""

    def __init__(self, event: Event) -> None:
        super().__init__(event.id)
        self.event = event


class InvalidEventInput(HearthError):
    """A dialog answer or an /event_edit value could not be taken; ``part`` names why."""

    def __init__(self, part: str, value: str = "") -> None:
        super().__init__(part, value)
        self.part = part
        self.value = value


# -- RSVP


def transition(
    previous: RsvpStatus | None, answer: Answer, *, going: int, capacity: int | None
) -> Transition:
    """The member's new status after ``answer``; ``going`` counts going members now.

    A member already going (or waiting) who presses Going again keeps their place; a
    going member who steps back frees a seat.
    """
    if answer is Answer.GOING:
        if previous in REGISTERED:
            assert previous is not None
            return Transition(previous, changed=False, frees_seat=False)
        full = capacity is not None and going >= capacity
        status = RsvpStatus.WAITLISTED if full else RsvpStatus.GOING
        return Transition(status, changed=True, frees_seat=False)
    status = RsvpStatus.MAYBE if answer is Answer.MAYBE else RsvpStatus.NOT_GOING
    return Transition(
        status, changed=previous is not status, frees_seat=previous is RsvpStatus.GOING
    )


def seats_to_fill(counts: RsvpCounts, capacity: int | None) -> int:
    """How many waitlisted members move up now (all of them when there is no limit)."""
    if capacity is None:
        return counts.waitlisted
    return max(0, min(counts.waitlisted, capacity - counts.going))


def registration_problem(event: Event, answer: Answer, now: datetime) -> EventProblem | None:
    """Why a member cannot give ``answer`` now, or None.

    New "Going" answers stop at the registration deadline; stepping back stays possible
    until the start, so that a freed seat still reaches the waitlist.
    """
    if event.cancelled:
        return EventProblem.CANCELLED
    if now >= event.starts_at:
        return EventProblem.STARTED
    if answer is Answer.GOING and now >= event.registration_deadline:
        return EventProblem.REGISTRATION_CLOSED
    return None


def is_upcoming(event: Event, now: datetime) -> bool:
    return not event.cancelled and event.ends_at > now


# -- reminders and feedback


def reminder_due(starts_at: datetime, now: datetime, hours: Iterable[int]) -> int | None:
    """The reminder (hours before the start) that is due now, or None.

    Only the closest one counts: a member who registers 30 minutes ahead gets the
    one-hour reminder, never the one-day one as well.
    """
    if now >= starts_at:
        return None
    due = [offset for offset in hours if starts_at - timedelta(hours=offset) <= now]
    return min(due) if due else None


def checkin_window(event: Event) -> tuple[datetime, datetime]:
    """When on-site check-in is open: [start − 1 h, end + 3 h)."""
    return event.starts_at - CHECKIN_OPENS_BEFORE, event.ends_at + CHECKIN_CLOSES_AFTER


def feedback_due(event: Event, now: datetime) -> bool:
    """Attendees are asked for feedback once check-in has closed."""
    return not event.cancelled and now >= checkin_window(event)[1]


def nps(scores: Sequence[int]) -> int | None:
    """Net promoter score: % promoters (9–10) − % detractors (0–6), rounded; None if none."""
    if not scores:
        return None
    promoters = sum(1 for score in scores if score >= 9)
    detractors = sum(1 for score in scores if score <= 6)
    return round(100 * (promoters - detractors) / len(scores))


def average(values: Sequence[int]) -> float | None:
    return sum(values) / len(values) if values else None


# -- attendance codes


def new_code(choose: Callable[[str], str]) -> str:
    """A fresh attendance code; ``choose`` picks one character (``secrets.choice``)."""
    return "".join(choose(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str | None:
    """The code a member typed (any case, spaces or dashes), or None if it cannot be one."""
    cleaned = re.sub(r"[\s\-_]", "", text or "").upper()
    return cleaned if _CODE.fullmatch(cleaned) else None


def attendance_payload(code: str) -> str:
    """The deep-link start payload that checks a member in (``a`` + the code)."""
    return f"a{code}"


def parse_attendance_payload(payload: str | None) -> str | None:
    match = _ATTENDANCE_PAYLOAD.fullmatch((payload or "").strip())
    return match.group(1) if match else None


# -- understanding an operator's answers (the dialog and /event_edit)


def parse_title(text: str) -> str:
    title = " ".join(text.split())
    if not title or len(title) > MAX_TITLE:
        raise InvalidEventInput("title", title)
    return title


def parse_description(text: str) -> str:
    description = text.strip()
    if not description or len(description) > MAX_DESCRIPTION:
        raise InvalidEventInput("description", description[:50])
    return description


def parse_place(text: str) -> str:
    place = " ".join(text.split())
    if not place or len(place) > MAX_PLACE:
        raise InvalidEventInput("place", place[:50])
    return place


def parse_when(text: str, timezone: str, now: datetime) -> tuple[datetime, datetime | None]:
    """``YYYY-MM-DD HH:MM`` or ``YYYY-MM-DD HH:MM-HH:MM`` (local time) → UTC start and end.

    Raises InvalidEventInput: ``when`` (unreadable), ``past`` (the start has passed),
    ``order`` (the end is not after the start), ``too_long``.
    """
    match = _WHEN.fullmatch(text.strip())
    if match is None:
        raise InvalidEventInput("when", text)
    start = _local(match.group("day"), match.group("start"), timezone, text)
    if start <= now:
        raise InvalidEventInput("past", text)
    if match.group("end") is None:
        return start, None
    end_day = match.group("end_day") or match.group("day")
    return start, check_end(start, _local(end_day, match.group("end"), timezone, text), text)


def parse_end(text: str, start: datetime, timezone: str) -> datetime:
    """``HH:MM`` (the start's local day) or ``YYYY-MM-DD HH:MM`` → the UTC end."""
    match = _END.fullmatch(text.strip())
    if match is None:
        raise InvalidEventInput("end", text)
    day = match.group("day") or start.astimezone(ZoneInfo(timezone)).date().isoformat()
    return check_end(start, _local(day, match.group("time"), timezone, text), text)


def check_end(start: datetime, end: datetime, text: str = "") -> datetime:
    if end <= start:
        raise InvalidEventInput("order", text)
    if end - start > LONGEST_EVENT:
        raise InvalidEventInput("too_long", text)
    return end


def parse_deadline(text: str, timezone: str, *, start: datetime, now: datetime) -> datetime:
    """``YYYY-MM-DD HH:MM`` (local) no later than the start and not in the past."""
    match = _END.fullmatch(text.strip())
    if match is None or match.group("day") is None:
        raise InvalidEventInput("deadline", text)
    deadline = _local(match.group("day"), match.group("time"), timezone, text)
    if deadline > start:
        raise InvalidEventInput("deadline_after_start", text)
    if deadline <= now:
        raise InvalidEventInput("past", text)
    return deadline


def parse_capacity(text: str) -> int | None:
    """A whole number of seats (1–100,000), or a word for "no limit" (None)."""
    word = " ".join(text.lower().split())
    if word in UNLIMITED_WORDS:
        return None
    if not word.isascii() or not word.isdigit() or not 1 <= int(word) <= MAX_CAPACITY:
        raise InvalidEventInput("capacity", text)
    return int(word)


def parse_points(text: str) -> int:
    word = text.strip()
    if not word.isascii() or not word.isdigit() or int(word) > MAX_POINTS:
        raise InvalidEventInput("points", text)
    return int(word)


def parse_comment(text: str) -> str:
    comment = text.strip()
    if not comment:
        raise InvalidEventInput("comment", text)
    return comment[:MAX_COMMENT]


def _local(day: str, clock_time: str, timezone: str, text: str) -> datetime:
    with suppress(ValueError, OverflowError):  # OverflowError: before year 1 in UTC
        hours, minutes = (int(part) for part in clock_time.split(":"))
        naive = datetime.combine(datetime.strptime(day, "%Y-%m-%d").date(), time(hours, minutes))
        return naive.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    raise InvalidEventInput("when", text)


def local_time(moment: datetime, timezone: str) -> datetime:
    """An instant as the community's wall clock shows it."""
    return moment.astimezone(ZoneInfo(timezone))


EDIT_FIELDS = ("title", "description", "place", "when", "capacity", "deadline", "points", "tag")
# Words that take an event's tag off (a slug cannot be empty).
NO_TAG_WORDS = frozenset({"none", "-", "无"})


def parse_tag(text: str) -> str | None:
    """The event's type as a tag slug ("Track day" → "track-day"), or None for a word that
    takes the tag off. Raises InvalidEventInput("tag") for text with no letters or digits."""
    word = " ".join(text.casefold().split())
    if word in NO_TAG_WORDS:
        return None
    tag = tag_slug(text)
    if tag is None:
        raise InvalidEventInput("tag", text)
    return tag


def parse_edit(
    field: str, value: str, event: Event, timezone: str, now: datetime
) -> dict[str, object]:
    """The stored fields an ``/event_edit`` changes. Raises InvalidEventInput.

    A new time keeps the event's length when no end is given; a registration deadline
    that would fall after the new start moves to the start.
    """
    name = field.lower()
    if name not in EDIT_FIELDS:
        raise InvalidEventInput("field", field)
    if not value.strip():
        raise InvalidEventInput("value", field)
    if name == "title":
        return {"title": parse_title(value)}
    if name == "description":
        return {"description": parse_description(value)}
    if name == "place":
        return {"place": parse_place(value)}
    if name == "capacity":
        return {"capacity": parse_capacity(value)}
    if name == "points":
        return {"points": parse_points(value)}
    if name == "tag":
        return {"tag": parse_tag(value)}
    if name == "deadline":
        deadline = parse_deadline(value, timezone, start=event.starts_at, now=now)
        return {"registration_deadline": deadline}
    start, end = parse_when(value, timezone, now)
    end = end or start + (event.ends_at - event.starts_at)
    deadline = event.registration_deadline
    if deadline == event.starts_at or deadline > start:
        deadline = start
    return {"starts_at": start, "ends_at": end, "registration_deadline": deadline}
