"""Who is who: communities, members and the membership that joins them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


class ChatRole(enum.StrEnum):
    """A member's standing in the community's Telegram chat."""

    MEMBER = "member"
    ADMINISTRATOR = "administrator"
    CREATOR = "creator"


class JoinVia(enum.StrEnum):
    """How Hearth learned of a membership."""

    JOIN = "join"  # saw the member join
    SEEN = "seen"  # the member was already there when Hearth first saw them take part


class JoinOutcome(enum.StrEnum):
    """What a join event changed."""

    JOINED = "joined"  # first time in this community
    REJOINED = "rejoined"  # came back after leaving
    ALREADY_MEMBER = "already_member"  # a duplicate signal (service message + chat_member)


class LeaveOutcome(enum.StrEnum):
    """What a leave event changed."""

    LEFT = "left"
    NOT_A_MEMBER = "not_a_member"


@dataclass(frozen=True, slots=True)
class Person:
    """A Telegram user as Hearth needs to know them (never a bot, never a channel)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    @property
    def display_name(self) -> str:
        """The name to greet the member by: first and last name, trimmed."""
        full = " ".join(part for part in (self.first_name, self.last_name) if part)
        return full.strip() or (f"@{self.username}" if self.username else str(self.id))


@dataclass(frozen=True, slots=True)
class CommunityProfile:
    """A group Hearth serves, with the settings every feature reads."""

    id: int
    title: str
    timezone: str
    locale: str
    active: bool
    bot_is_admin: bool
    welcome_enabled: bool
    announce_milestones: bool = True
    digest_enabled: bool = True  # operators get the weekly digest in private
    points_rules: Mapping[str, int] | None = None  # None: the defaults


@dataclass(frozen=True, slots=True)
class MemberProfile:
    """A member across all communities: language and whether the bot may write to them."""

    id: int
    first_name: str
    locale: str | None
    language_code: str | None
    started_bot: bool
    reachable: bool

    @property
    def writable(self) -> bool:
        """Whether the bot may write to them in private: they started it and did not block it."""
        return self.started_bot and self.reachable


@dataclass(frozen=True, slots=True)
class MembershipView:
    """A member's place in one community."""

    community_id: int
    member_id: int
    joined_at: datetime
    left_at: datetime | None
    join_count: int
    role: ChatRole

    @property
    def is_current(self) -> bool:
        return self.left_at is None


def join_outcome(existing: MembershipView | None) -> JoinOutcome:
    """Classify a join signal against the membership that is already stored."""
    if existing is None:
        return JoinOutcome.JOINED
    if existing.left_at is not None:
        return JoinOutcome.REJOINED
    return JoinOutcome.ALREADY_MEMBER


def leave_outcome(existing: MembershipView | None) -> LeaveOutcome:
    """Classify a leave signal: only a current member can leave."""
    if existing is None or existing.left_at is not None:
        return LeaveOutcome.NOT_A_MEMBER
    return LeaveOutcome.LEFT
