"""The points economy: rules, lots that expire, first-in-first-out spending, tiers.

A balance is never a counter of its own: it is the sum of the ledger, which equals the sum
of what remains in the lots that have not expired.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hearth.domain.errors import HearthError


class NotEnoughPoints(HearthError):
    """A debit larger than the balance."""

    def __init__(self, balance: int, wanted: int) -> None:
        super().__init__(balance, wanted)
        self.balance = balance
        self.wanted = wanted


class EntryKind(enum.StrEnum):
    """Why the ledger moved."""

    EARN = "earn"  # points for taking part (check-ins, milestones, …)
    GRANT = "grant"  # an operator's manual credit
    DEDUCT = "deduct"  # an operator's manual debit
    SPEND = "spend"  # a redemption
    EXPIRE = "expire"  # a lot's remainder at its expiry date


CREDIT_KINDS = frozenset({EntryKind.EARN, EntryKind.GRANT})


@dataclass(frozen=True, slots=True)
class Tier:
    """A level of the honour programme, reached by points earned in the last 12 months."""

    name: str
    threshold: int
    multiplier: float


DEFAULT_TIERS = (
    Tier("member", 0, 1.0),
    Tier("silver", 500, 1.1),
    Tier("gold", 2000, 1.25),
    Tier("platinum", 5000, 1.5),
)


@dataclass(frozen=True, slots=True)
class PointsRules:
    """What taking part is worth in one community (operators may change it)."""

    checkin: int = 10
    first_checkin_bonus: int = 20
    milestones: Mapping[int, int] = field(
        default_factory=lambda: {3: 10, 7: 30, 30: 100, 100: 300, 365: 1000}
    )
    message: int = 1  # per counted group message …
    message_cooldown_seconds: int = 60  # … at most one per cooldown …
    message_daily_cap: int = 20  # … and this many per local day
    referral: int = 100
    purchase: int = 200  # per purchase or trade-in the business reports (conversions) …
    purchase_per_100: int = 0  # … and this much more per 100 of its amount
    expiry_months: int = 12
    tiers: Sequence[Tier] = DEFAULT_TIERS

    def tier_for(self, earned_last_year: int) -> Tier:
        """The highest tier whose threshold the member reached."""
        reached = [tier for tier in self.tiers if earned_last_year >= tier.threshold]
        return max(reached, key=lambda tier: tier.threshold) if reached else self.tiers[0]

    def next_tier(self, earned_last_year: int) -> Tier | None:
        above = [tier for tier in self.tiers if tier.threshold > earned_last_year]
        return min(above, key=lambda tier: tier.threshold) if above else None

    def settings(self) -> dict[str, int]:
        """The rules as operators see and change them: name → whole number."""
        values = {
            "checkin": self.checkin,
            "first_checkin_bonus": self.first_checkin_bonus,
            "message": self.message,
            "message_cooldown_seconds": self.message_cooldown_seconds,
            "message_daily_cap": self.message_daily_cap,
            "referral": self.referral,
            "purchase": self.purchase,
            "purchase_per_100": self.purchase_per_100,
            "expiry_months": self.expiry_months,
        }
        values.update({f"milestone_{days}": points for days, points in self.milestones.items()})
        values.update({f"tier_{tier.name}": tier.threshold for tier in self.tiers[1:]})
        return values

    def changed(self, name: str, value: int) -> PointsRules:
        """A copy with one setting changed; raises KeyError or ValueError for bad input."""
        if name not in self.settings():
            raise KeyError(name)
        if value < 0 or value > RULE_LIMITS.get(name, 1_000_000):
            raise ValueError(name)
        return rules_from_settings({**self.settings(), name: value})


# Upper bounds that keep a typo from wrecking the economy.
RULE_LIMITS = {
    "expiry_months": 120,
    "message_cooldown_seconds": 86_400,
    "purchase_per_100": 10_000,
}


def rules_from_settings(values: Mapping[str, object] | None) -> PointsRules:
    """Rules from stored settings; unknown or malformed values fall back to the defaults."""
    defaults = PointsRules()
    if not values:
        return defaults
    merged = defaults.settings()
    for name, value in values.items():
        if name in merged and isinstance(value, int) and not isinstance(value, bool):
            merged[name] = max(0, value)
    milestones = {
        int(name.removeprefix("milestone_")): points
        for name, points in merged.items()
        if name.startswith("milestone_")
    }
    tiers = [DEFAULT_TIERS[0]] + [
        Tier(tier.name, merged[f"tier_{tier.name}"], tier.multiplier) for tier in DEFAULT_TIERS[1:]
    ]
    return PointsRules(
        checkin=merged["checkin"],
        first_checkin_bonus=merged["first_checkin_bonus"],
        milestones=milestones,
        message=merged["message"],
        message_cooldown_seconds=merged["message_cooldown_seconds"],
        message_daily_cap=merged["message_daily_cap"],
        referral=merged["referral"],
        purchase=merged["purchase"],
        purchase_per_100=merged["purchase_per_100"],
        expiry_months=max(1, merged["expiry_months"]),
        tiers=tuple(sorted(tiers, key=lambda tier: tier.threshold)),
    )


def purchase_points(rules: PointsRules, amount_minor: int) -> int:
    """Points for one purchase (or trade-in) of ``amount_minor`` (cents, fen): the flat
    ``purchase`` plus ``purchase_per_100`` for each whole 100 of the amount."""
    return rules.purchase + rules.purchase_per_100 * (max(0, amount_minor) // 10_000)


def with_multiplier(points: int, tier: Tier) -> int:
    """Earned points after the tier's multiplier, rounded half up."""
    return int(points * tier.multiplier + 0.5)


def expiry_of(earned_at: datetime, months: int, timezone: str) -> datetime:
    """End of the ``months``-th month after the one a lot was earned in (community time)."""
    local = earned_at.astimezone(ZoneInfo(timezone))
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    end = datetime.combine(date(year, month, last_day), time.max, tzinfo=ZoneInfo(timezone))
    return end.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A ledger entry about to be written; its key makes writing it twice a no-op."""

    community_id: int
    member_id: int
    kind: EntryKind
    amount: int
    reason: str
    key: str
    at: datetime
    expires_at: datetime | None = None  # credits only
    actor_id: int | None = None


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """An entry as a member reads it in /points."""

    kind: EntryKind
    amount: int
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Lot:
    """An earning that can still be spent until it expires."""

    id: int
    remaining: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ExpiringLot:
    """A lot an expiry reminder may be about, with who to tell."""

    community_id: int
    member_id: int
    lot_id: int
    remaining: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ReminderTarget:
    """A member who asked to be reminded to check in, and where."""

    community_id: int
    member_id: int
    hour: int  # local hour in the community's time zone


def spend_plan(lots: Sequence[Lot], amount: int, now: datetime) -> list[tuple[int, int]]:
    """Which lots pay for ``amount``: the soonest to expire first. Returns (lot id, taken).

    Raises NotEnoughPoints when the live lots do not cover the amount.
    """
    if amount <= 0:
        raise ValueError("amount must be positive")
    live = sorted(
        (lot for lot in lots if lot.remaining > 0 and lot.expires_at > now),
        key=lambda lot: (lot.expires_at, lot.id),
    )
    available = sum(lot.remaining for lot in live)
    if available < amount:
        raise NotEnoughPoints(available, amount)
    plan: list[tuple[int, int]] = []
    left = amount
    for lot in live:
        taken = min(lot.remaining, left)
        plan.append((lot.id, taken))
        left -= taken
        if left == 0:
            break
    return plan


def expiring(lots: Sequence[Lot], now: datetime, within: timedelta) -> list[Lot]:
    """Live lots that expire within ``within`` of ``now``, soonest first."""
    return sorted(
        (lot for lot in lots if lot.remaining > 0 and now < lot.expires_at <= now + within),
        key=lambda lot: (lot.expires_at, lot.id),
    )


def checkin_points(
    rules: PointsRules, tier: Tier, *, first_ever: bool, milestone: int | None
) -> list[tuple[str, int]]:
    """The credits one check-in earns, as (reason, points) after the tier multiplier."""
    credits = [("checkin", with_multiplier(rules.checkin, tier))]
    if first_ever and rules.first_checkin_bonus:
        credits.append(("first_checkin", with_multiplier(rules.first_checkin_bonus, tier)))
    if milestone is not None and rules.milestones.get(milestone):
        credits.append(
            (f"milestone_{milestone}", with_multiplier(rules.milestones[milestone], tier))
        )
    return credits


def message_credit_times(
    times: Sequence[datetime],
    *,
    earlier_today: Sequence[datetime],
    rules: PointsRules,
) -> list[datetime]:
    """Which of one member's messages of one local day earn points.

    At most one per cooldown and ``message_daily_cap`` a day, counting the credits the
    member already had that day (``earlier_today``): chatting more never earns more.
    """
    if rules.message <= 0 or rules.message_daily_cap <= 0:
        return []
    cooldown = timedelta(seconds=rules.message_cooldown_seconds)
    credited = sorted(earlier_today)
    last = credited[-1] if credited else None
    earned: list[datetime] = []
    for at in sorted(times):
        if len(credited) + len(earned) >= rules.message_daily_cap:
            break
        if last is not None and at - last < cooldown:
            continue
        earned.append(at)
        last = at
    return earned
