"""Channels: dealers, stores and partners that bring members to a community.

Each channel has its own invite link (and QR code). Opening it is a *touch*; a member is
attributed to the channel of their earliest touch at or before their first join of the
group (``attribute``); later touches are kept and count as "reached", never moving the
attribution. Members who joined before any touch came "direct", and so did those who were
in the group before Hearth saw them join (first seen taking part).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from hearth.domain.errors import HearthError
from hearth.domain.lifecycle import Activation

NAME_LIMIT = 64  # characters of a channel's name (the column's size)
# A name may come in quotes: "Dealer Pudong", “Dealer Pudong”, «…», 「…」.
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»", "「": "」", "『": "』"}
_SPACES = re.compile(r"\s+")
_DAYS = re.compile(r"(\d{1,3})\s*d?", re.ASCII)
DEFAULT_DAYS = 30  # the period of the figures when none is asked for
MAX_DAYS = 365

ACTIVATION_DAYS = 3  # distinct active days …
ACTIVATION_WINDOW = timedelta(days=7)  # … within this long after joining
RETENTION_COHORT = (timedelta(days=90), timedelta(days=30))  # joined this long ago (from, to)
RETENTION_ACTIVE = timedelta(days=30)  # … and took part within this long before now


@dataclass(frozen=True, slots=True)
class Channel:
    """A dealer, store or partner of a community. ``contact_id``: the member given a
    read-only view of this channel's own figures, if any."""

    id: int
    community_id: int
    name: str
    created_at: datetime
    contact_id: int | None = None
    archived: bool = False


@dataclass(frozen=True, slots=True)
class ChannelTouch:
    """Someone opened a channel's link (or joined through it)."""

    community_id: int
    member_id: int
    channel_id: int
    touched_at: datetime


@dataclass(frozen=True, slots=True)
class MemberJoin:
    """A member's place in a community, as the channel figures need it.

    ``first_joined_at``: their first join (a member who left and came back keeps the first);
    ``seen``: Hearth first saw them taking part, they were in the group before it (not a
    join); ``current``: they are in the group now.
    """

    member_id: int
    first_joined_at: datetime
    seen: bool
    current: bool


@dataclass(frozen=True, slots=True)
class ConversionTally:
    """One member's conversions of one kind in a period: how many, and their amount in the
    currency's minor unit."""

    member_id: int
    kind: str
    count: int
    amount_minor: int


# -- errors


class InvalidChannelName(HearthError):
    """A channel's name is empty or longer than ``NAME_LIMIT``."""


class UnknownChannel(HearthError):
    """No channel by this number among the communities the operator runs."""

    def __init__(self, channel_id: int) -> None:
        super().__init__(channel_id)
        self.channel_id = channel_id


class ChannelExists(HearthError):
    """The community has a channel by this name already (archived ones too)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class UnknownContact(HearthError):
    """The person named as a channel's contact is unknown to Hearth (never wrote to the
    bot, never was seen in a group)."""

    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference


class NotAChannelContact(HearthError):
    """Someone who is no channel's contact person asked for a channel's figures."""


# -- rules


def parse_channel_name(text: str | None) -> str:
    """A channel's name from an operator's command: surrounding quotes are optional,
    inner whitespace becomes single spaces; 1 to ``NAME_LIMIT`` characters."""
    name = _SPACES.sub(" ", text or "").strip()
    if len(name) >= 2 and _QUOTES.get(name[0]) == name[-1]:
        name = name[1:-1].strip()
    if not name or len(name) > NAME_LIMIT:
        raise InvalidChannelName(name)
    return name


def period_days(argument: str | None) -> int | None:
    """The days of a figures period, "90" or "90d": 1 to ``MAX_DAYS``, ``DEFAULT_DAYS``
    when none is given; None when the argument is no such period."""
    if not argument or not argument.strip():
        return DEFAULT_DAYS
    match = _DAYS.fullmatch(argument.strip().lower())
    if match is None or not 1 <= int(match.group(1)) <= MAX_DAYS:
        return None
    return int(match.group(1))


def same_name(first: str, second: str) -> bool:
    """Two names of channels that members would take for the same one."""
    return first.casefold() == second.casefold()


def attribute(touches: Iterable[ChannelTouch], joins: Mapping[int, datetime]) -> dict[int, int]:
    """Member id -> the channel they are attributed to.

    ``joins``: each member's first join of the community (members who were in the group
    before Hearth saw them join are left out by the caller). A member is attributed to the
    channel of their earliest touch at or before that join (the first touch wins; equal
    times go to the lower channel number). Members with no such touch came "direct", and
    members who never joined are nobody's yet: neither is in the result.
    """
    attributed: dict[int, tuple[datetime, int]] = {}
    for touch in touches:
        joined_at = joins.get(touch.member_id)
        if joined_at is None or touch.touched_at > joined_at:
            continue
        candidate = (touch.touched_at, touch.channel_id)
        known = attributed.get(touch.member_id)
        if known is None or candidate < known:
            attributed[touch.member_id] = candidate
    return {member_id: channel_id for member_id, (_, channel_id) in attributed.items()}


def first_week_activation(
    joined_at: datetime, active_days: Iterable[tuple[datetime, datetime]], now: datetime
) -> Activation:
    """Whether a newcomer took part on ``ACTIVATION_DAYS`` distinct days within
    ``ACTIVATION_WINDOW`` of joining: ACTIVATED, PENDING (not yet, the window is still
    open) or MISSED.

    ``active_days``: for each local day the member took part, its first and last moment. A
    day spans less than a day, the window a week: a day whose span meets the window has a
    moment inside it.
    """
    end = joined_at + ACTIVATION_WINDOW
    days = sum(1 for first, last in active_days if last >= joined_at and first < end)
    if days >= ACTIVATION_DAYS:
        return Activation.ACTIVATED
    return Activation.PENDING if now < end else Activation.MISSED


def in_retention_cohort(first_joined_at: datetime, now: datetime) -> bool:
    """Whether a member's first join was between 90 and 30 days before ``now`` (the
    members whose retention the channel figures measure)."""
    earliest, latest = RETENTION_COHORT
    return now - earliest <= first_joined_at < now - latest
