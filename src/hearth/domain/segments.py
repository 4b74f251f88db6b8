"""What operators list and export about members: a selection (stage, segment or tag), the
stored standings behind it, and one member's record as a list or a file shows it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from hearth.domain.lifecycle import Stage
from hearth.domain.profile import is_answer_tag
from hearth.domain.rfm import Segment, tag_slug
from hearth.domain.streaks import StreakState, current_streak


class ListKind(enum.StrEnum):
    """What a member list is selected by (short values: they travel in callback data)."""

    STAGE = "s"
    SEGMENT = "g"
    TAG = "t"


@dataclass(frozen=True, slots=True)
class Selection:
    """The members of one lifecycle stage, one RFM segment or one tag; ``value`` is valid."""

    kind: ListKind
    value: str

    @classmethod
    def of(cls, kind: ListKind, value: str) -> Selection:
        """A selection, checked: a known stage or segment, or a tag as its slug.

        Raises ValueError for anything else (callback data is never trusted).
        """
        if kind is ListKind.STAGE:
            return cls(kind, Stage(value).value)
        if kind is ListKind.SEGMENT:
            return cls(kind, Segment(value).value)
        if tag_slug(value) != value and not is_answer_tag(value):
            raise ValueError(f"not a tag: {value!r}")
        return cls(kind, value)


class MemberOrder(enum.StrEnum):
    """What a roster of members is sorted by."""

    NAME = "name"
    LAST_ACTIVE = "active"
    POINTS = "points"
    JOINED = "joined"


@dataclass(frozen=True, slots=True)
class MemberFilter:
    """Which current members a roster shows, in which order; an empty field narrows nothing.

    ``search`` is part of a name or @username, or a member's id; ``tag`` an operator or
    automatic tag; ``tier`` the tier last announced to the member.
    """

    search: str = ""
    stage: Stage | None = None
    segment: Segment | None = None
    tag: str | None = None
    tier: str | None = None
    order: MemberOrder = MemberOrder.NAME
    descending: bool = False

    @property
    def username(self) -> str | None:
        """The @username searched for, when the search starts with "@"."""
        text = self.search.strip()
        return (text[1:] or None) if text.startswith("@") else None

    @property
    def member_id(self) -> int | None:
        """The id searched for, when the search is a number that can be one (a BIGINT)."""
        text = self.search.strip()
        if not (text.isdecimal() and text.isascii() and len(text) <= 19):
            return None
        return int(text) if int(text) < 2**63 else None


@dataclass(frozen=True, slots=True)
class StandingsSummary:
    """Members per stage and per segment as of the latest recompute (None: never run)."""

    computed_on: date | None
    stages: Mapping[Stage, int] = field(default_factory=dict)
    segments: Mapping[Segment, int] = field(default_factory=dict)
    high_value: int = 0


@dataclass(frozen=True, slots=True)
class StoredStanding:
    """A membership's standing as the latest recompute stored it."""

    stage: Stage
    since: date
    computed_on: date
    segment: Segment | None = None  # None for members who left
    segment_since: date | None = None
    recency: int | None = None  # RFM scores 1–5
    frequency: int | None = None
    value: int | None = None
    high_value: bool = False
    tags: tuple[str, ...] = ()  # automatic tags


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """One membership with everything an operator's list or export shows about it."""

    member_id: int
    first_name: str
    last_name: str | None
    username: str | None
    forgotten: bool  # the member erased their personal data
    joined_at: datetime
    left_at: datetime | None
    tier: str
    standing: StoredStanding | None  # None until the first recompute after joining
    operator_tags: tuple[str, ...] = ()
    balance: int = 0
    streak: StreakState | None = None  # as of the latest check-in
    last_active_on: date | None = None  # the latest local day with participation

    @property
    def name(self) -> str:
        """First and last name; only the anonymised first name of a forgotten member."""
        if self.forgotten:
            return self.first_name
        return " ".join(part for part in (self.first_name, self.last_name) if part).strip()

    @property
    def handle(self) -> str | None:
        """The @username, never a forgotten member's."""
        return None if self.forgotten or not self.username else f"@{self.username}"

    @property
    def tags(self) -> tuple[str, ...]:
        """Automatic tags, then the operators' (sorted), without repeats."""
        automatic = self.standing.tags if self.standing else ()
        return tuple(dict.fromkeys([*automatic, *sorted(self.operator_tags)]))

    def streak_on(self, today: date) -> int:
        """The check-in streak as it stands on ``today``."""
        return current_streak(self.streak, today)

    def idle_days(self, today: date) -> int | None:
        """Local days since the last active day (0: today); None if never active."""
        return None if self.last_active_on is None else max(0, (today - self.last_active_on).days)


# Telegram refuses a message over 4,096 characters: a list of 20 members (or the digest's)
# shows each name cut to this many characters, the last one "…".
NAME_LIMIT = 32


def listed_name(name: str) -> str:
    """A member's name as lists and the digest show it: at most ``NAME_LIMIT`` characters."""
    return name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1] + "…"


def file_stem(title: str, *parts: str) -> str:
    """A file name without extension: the community's title as a slug, then ``parts``.

    "Pudong Owners", "members", "2026-03-02" → "pudong-owners-members-2026-03-02".
    """
    words = [tag_slug(title) or "community", *(part for part in parts if part)]
    return "-".join(words)
