"""Lucky draws: who may enter, how winners are drawn, and the operator's command for a draw.

Winners are drawn from a recorded seed over the entrants in a stable order, so that anyone
holding the seed and the entries draws the same winners again: the result can be audited.
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Collection, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hearth.domain.errors import HearthError
from hearth.domain.points import Tier
from hearth.domain.rewards import reaches

MAX_PRIZE = 100  # characters: it travels in alerts and button-sized lines
MAX_WINNERS = 1000
MAX_COST = 1_000_000
MAX_ACTIVE_DAYS = 365
LONGEST_DRAW = timedelta(days=366)  # a closing time further away is a typo
SEED_BITS = 63  # a seed fits a signed BIGINT
FREE_WORDS = frozenset({"free", "0", "免费"})
_FLAG = re.compile(r"([A-Za-z]+)=(.*)")
_FLAGS = frozenset({"tier", "active", "event"})
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


class DrawStatus(enum.StrEnum):
    """Open for entries until its closing time; then closed (winners drawn) or cancelled."""

    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Problem(enum.StrEnum):
    """Why a member cannot enter a draw."""

    NOT_A_MEMBER = "not_a_member"  # the draw belongs to a community the member is not in
    CANCELLED = "cancelled"
    CLOSED = "closed"  # its closing time has passed (or it is drawn already)
    TIER_TOO_LOW = "tier_too_low"
    NOT_ACTIVE = "not_active"  # no participation within the last ``active_days`` days
    NOT_ATTENDED = "not_attended"  # did not attend the event the draw asks for


class DrawUnavailable(HearthError):
    """A member cannot enter this draw; ``problem`` says why."""

    def __init__(self, problem: Problem, draw: Draw | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.draw = draw


class AlreadyEntered(HearthError):
    """The member entered this draw before: one entry each, paid once."""

    def __init__(self, draw: Draw) -> None:
        super().__init__(draw.id)
        self.draw = draw


class UnknownDraw(HearthError):
    """A draw that does not exist in a community the asker belongs to or operates."""

    def __init__(self, draw_id: int) -> None:
        super().__init__(draw_id)
        self.draw_id = draw_id


class DrawSettled(HearthError):
    """A closed draw cannot be cancelled: its winners are drawn."""

    def __init__(self, draw: Draw) -> None:
        super().__init__(draw.id)
        self.draw = draw


class InvalidDrawSpec(HearthError):
    """A part of /draw_new could not be understood; ``part`` names it (winners, cost, …)."""

    def __init__(self, part: str, value: str = "") -> None:
        super().__init__(part, value)
        self.part = part
        self.value = value


@dataclass(frozen=True, slots=True)
class Draw:
    """A lucky draw of one community; times in UTC."""

    id: int
    community_id: int
    prize: str
    winners: int  # how many entrants win
    cost: int  # points per entry; 0: free
    min_tier: str | None  # a tier name; None: every member
    active_days: int | None  # must have taken part within this many days; None: no condition
    event_id: int | None  # must have attended this event; None: no condition
    closes_at: datetime
    status: DrawStatus
    seed: int | None  # recorded when the winners are drawn
    entries: int  # how many members entered

    @property
    def is_open(self) -> bool:
        return self.status is DrawStatus.OPEN


@dataclass(frozen=True, slots=True)
class NewDraw:
    """A draw about to be stored."""

    prize: str
    winners: int
    cost: int
    closes_at: datetime
    min_tier: str | None = None
    active_days: int | None = None
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """A member's entry: what it cost, and its place among the winners (None: did not win)."""

    member_id: int
    cost: int
    rank: int | None


def entry_problem(
    draw: Draw,
    *,
    now: datetime,
    tier: Tier,
    tiers: Sequence[Tier],
    active_recently: bool,
    attended: bool,
) -> Problem | None:
    """The first reason a member cannot enter ``draw`` now, or None when they can.

    ``active_recently`` and ``attended`` answer the draw's conditions (either is ignored
    when the draw does not ask for it).
    """
    if draw.status is DrawStatus.CANCELLED:
        return Problem.CANCELLED
    if draw.status is DrawStatus.CLOSED or now >= draw.closes_at:
        return Problem.CLOSED
    if draw.min_tier is not None and not reaches(tier, draw.min_tier, tiers):
        return Problem.TIER_TOO_LOW
    if draw.active_days is not None and not active_recently:
        return Problem.NOT_ACTIVE
    if draw.event_id is not None and not attended:
        return Problem.NOT_ATTENDED
    return None


def new_seed(choose: random.Random | None = None) -> int:
    """A fresh seed (``choose`` for tests; by default the system's randomness)."""
    return (choose or random.SystemRandom()).getrandbits(SEED_BITS)


def draw_winners(entrants: Iterable[int], count: int, seed: int) -> list[int]:
    """The winners among ``entrants`` (member ids), in the order drawn.

    The entrants are sorted by member id, then ``random.Random(seed).sample`` picks
    ``count`` of them (all of them when fewer entered): the same seed and entrants always
    give the same winners, whatever order the entries were read in.
    """
    pool = sorted(set(entrants))
    return random.Random(seed).sample(pool, min(count, len(pool)))


def closes_at(day: date, clock: time, timezone: str) -> datetime:
    """The UTC instant of a local wall-clock time in the community's time zone."""
    return datetime.combine(day, clock).replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def check_closing(moment: datetime, now: datetime) -> datetime:
    """``moment`` when it lies ahead and not absurdly far; raises InvalidDrawSpec otherwise."""
    if moment <= now:
        raise InvalidDrawSpec("past")
    if moment - now > LONGEST_DRAW:
        raise InvalidDrawSpec("too_far")
    return moment


# -- /draw_new WINNERS COST|free YYYY-MM-DD HH:MM PRIZE… [tier=silver] [active=30] [event=12]


@dataclass(frozen=True, slots=True)
class DrawDraft:
    """An operator's /draw_new, understood; the closing time is the community's wall clock."""

    prize: str
    winners: int
    cost: int
    closing_day: date
    closing_time: time
    min_tier: str | None = None
    active_days: int | None = None
    event_id: int | None = None

    def for_community(self, timezone: str) -> NewDraw:
        """The draw to store, its closing time in UTC."""
        return NewDraw(
            prize=self.prize,
            winners=self.winners,
            cost=self.cost,
            closes_at=closes_at(self.closing_day, self.closing_time, timezone),
            min_tier=self.min_tier,
            active_days=self.active_days,
            event_id=self.event_id,
        )


def parse_draw_command(args: str | None, *, tier_names: Collection[str]) -> DrawDraft:
    """Understand the arguments of /draw_new; raises InvalidDrawSpec naming the bad part.

    ``tier=``, ``active=`` (days) and ``event=`` (an event's number) may stand anywhere
    after the closing time; every other word belongs to the prize.
    """
    words = (args or "").split()
    if len(words) < 5:
        raise InvalidDrawSpec("usage")
    winners = _whole_number(words[0], "winners", 1, MAX_WINNERS)
    cost = 0 if words[1].lower() in FREE_WORDS else _whole_number(words[1], "cost", 1, MAX_COST)
    closing_day = _day(words[2])
    closing_time = _clock(words[3])
    flags: dict[str, str] = {}
    prize_words: list[str] = []
    for word in words[4:]:
        flag = _FLAG.fullmatch(word)
        if flag is None:
            prize_words.append(word)
            continue
        name, value = flag.group(1).lower(), flag.group(2)
        if name not in _FLAGS or name in flags:
            raise InvalidDrawSpec("flag", word)
        flags[name] = value
    prize = " ".join(prize_words)
    if not prize or len(prize) > MAX_PRIZE:
        raise InvalidDrawSpec("prize", prize)
    tier = flags.get("tier", "").lower() or None
    if tier is not None and tier not in tier_names:
        raise InvalidDrawSpec("tier", tier)
    return DrawDraft(
        prize=prize,
        winners=winners,
        cost=cost,
        closing_day=closing_day,
        closing_time=closing_time,
        min_tier=tier,
        active_days=(
            _whole_number(flags["active"], "active", 1, MAX_ACTIVE_DAYS)
            if "active" in flags
            else None
        ),
        event_id=(
            _whole_number(flags["event"].lstrip("#"), "event", 1, 2**63 - 1)
            if "event" in flags
            else None
        ),
    )


def _whole_number(word: str, part: str, lowest: int, highest: int) -> int:
    if not word.isascii() or not word.isdigit() or not lowest <= int(word) <= highest:
        raise InvalidDrawSpec(part, word)
    return int(word)


def _day(word: str) -> date:
    if len(word) == 10:  # YYYY-MM-DD only: fromisoformat would also take 20260301
        with suppress(ValueError):
            return date.fromisoformat(word)
    raise InvalidDrawSpec("day", word)


def _clock(word: str) -> time:
    match = _CLOCK.fullmatch(word)
    if match is not None:
        with suppress(ValueError):
            return time(int(match.group(1)), int(match.group(2)))
    raise InvalidDrawSpec("time", word)
