"""Referrals: a member's personal invite, and when the friend it brought earns them points.

A referral is recorded on the friend's first /start through the invite (first touch wins),
only for someone Hearth did not know yet and never for oneself. The inviter is credited
once, when the friend joined the group after the invite and checks in there for the first
time; the ledger key ``referral:<community>:<friend>`` makes a second credit impossible.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class ReferralOutcome(enum.StrEnum):
    """What opening an invite did."""

    RECORDED = "recorded"  # the friend now counts as invited by the inviter
    SELF = "self"  # the inviter opened their own invite
    KNOWN = "known"  # the friend was known already (started the bot or was in the group)
    ALREADY_REFERRED = "already_referred"  # someone's invite brought them first
    UNKNOWN_INVITER = "unknown_inviter"  # the invite names nobody of the community


@dataclass(frozen=True, slots=True)
class Referral:
    """One friend an invite brought to a community."""

    community_id: int
    referrer_id: int
    referred_id: int
    referred_at: datetime
    joined_at: datetime | None = None  # when Hearth saw them join the group
    credited_at: datetime | None = None
    points: int | None = None  # credited to the inviter


@dataclass(frozen=True, slots=True)
class ReferralCounts:
    """An inviter's referrals in one community, as /me shows them."""

    invited: int = 0
    joined: int = 0
    credited: int = 0
    points: int = 0


def referral_outcome(
    *,
    referrer_id: int,
    referred_id: int,
    referrer_is_member: bool,
    known: bool,
    referred_before: bool,
) -> ReferralOutcome:
    """Whether opening an invite records a referral; the first reason against it otherwise.

    ``known``: the friend started the bot before, or has (or had) a membership of the
    community; ``referred_before``: an invite to this community brought them already.
    """
    if referrer_id == referred_id:
        return ReferralOutcome.SELF
    if not referrer_is_member:
        return ReferralOutcome.UNKNOWN_INVITER
    if referred_before:
        return ReferralOutcome.ALREADY_REFERRED
    if known:
        return ReferralOutcome.KNOWN
    return ReferralOutcome.RECORDED


def credit_key(community_id: int, referred_id: int) -> str:
    """The idempotency key of the inviter's credit for one friend (ledger and outbox)."""
    return f"referral:{community_id}:{referred_id}"


def creditable(referral: Referral | None) -> bool:
    """Whether the friend's first check-in credits the inviter: they joined the group after
    the invite (a member already there is never "brought") and nobody was credited yet."""
    return (
        referral is not None
        and referral.joined_at is not None
        and referral.joined_at >= referral.referred_at
        and referral.credited_at is None
    )
