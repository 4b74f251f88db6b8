"""The points ledger: credits as lots, debits oldest-lot-first, expiry, tiers, leaderboards.

Every entry has an idempotency key: writing the same key twice changes nothing. The
materialised balance moves in the same transaction as the entry that moves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hearth.domain.calendar import local_day
from hearth.domain.members import CommunityProfile
from hearth.domain.points import (
    EntryKind,
    LedgerLine,
    NewEntry,
    NotEnoughPoints,
    PointsRules,
    Tier,
    expiring,
    expiry_of,
    rules_from_settings,
    spend_plan,
)
from hearth.services.ports import UnitOfWork

YEAR = timedelta(days=365)


async def credit(
    uow: UnitOfWork,
    *,
    community_id: int,
    member_id: int,
    amount: int,
    kind: EntryKind,
    reason: str,
    key: str,
    now: datetime,
    timezone: str,
    rules: PointsRules,
    actor_id: int | None = None,
) -> bool:
    """Credit a lot that expires after the community's expiry period; False on a replay."""
    if amount <= 0:
        raise ValueError("a credit must be positive")
    entry = NewEntry(
        community_id=community_id,
        member_id=member_id,
        kind=kind,
        amount=amount,
        reason=reason,
        key=key,
        at=now,
        expires_at=expiry_of(now, rules.expiry_months, timezone),
        actor_id=actor_id,
    )
    if await uow.points.add_entry(entry) is None:
        return False
    await uow.points.change_balance(community_id, member_id, amount, now)
    return True


async def credit_all(uow: UnitOfWork, entries: list[NewEntry]) -> int:
    """Credit several lots at once (two statements however many); returns points credited.

    Entries whose key was written before are skipped: replaying changes nothing.
    """
    if not entries:
        return 0
    totals: dict[tuple[int, int], int] = {}
    for community_id, member_id, amount in await uow.points.add_credits(entries):
        totals[community_id, member_id] = totals.get((community_id, member_id), 0) + amount
    for community_id in {community for community, _ in totals}:
        await uow.points.add_to_balances(
            community_id,
            {member: amount for (c, member), amount in totals.items() if c == community_id},
            entries[0].at,
        )
    return sum(totals.values())


async def debit(
    uow: UnitOfWork,
    *,
    community_id: int,
    member_id: int,
    amount: int,
    kind: EntryKind,
    reason: str,
    key: str,
    now: datetime,
    actor_id: int | None = None,
) -> bool:
    """Take ``amount`` from the oldest lots first; False on a replay.

    Raises NotEnoughPoints, having written nothing but due expiries, when the balance does
    not cover it: a balance never goes below zero.
    """
    if amount <= 0:
        raise ValueError("a debit must be positive")
    await expire_member(uow, community_id, member_id, now)
    if await uow.points.has_entry(key):
        return False
    # The conditional update comes first: on PostgreSQL its row lock also serialises
    # concurrent debits of this member, so the lots below are read by one of them at a time.
    if await uow.points.change_balance(community_id, member_id, -amount, now) is None:
        raise NotEnoughPoints(await uow.points.balance(community_id, member_id), amount)
    entry = NewEntry(
        community_id=community_id,
        member_id=member_id,
        kind=kind,
        amount=-amount,
        reason=reason,
        key=key,
        at=now,
        actor_id=actor_id,
    )
    if await uow.points.add_entry(entry) is None:
        # The same key won a race while we waited for the lock: give the points back.
        await uow.points.change_balance(community_id, member_id, amount, now)
        return False
    for lot_id, taken in spend_plan(await uow.points.lots(community_id, member_id), amount, now):
        await uow.points.take_from_lot(lot_id, taken)
    return True


async def expire_member(uow: UnitOfWork, community_id: int, member_id: int, now: datetime) -> int:
    """Write expiry entries for a member's lots past their date; returns the points expired."""
    expired = 0
    for lot in await uow.points.lots(community_id, member_id):
        if lot.expires_at > now:
            continue
        entry = NewEntry(
            community_id=community_id,
            member_id=member_id,
            kind=EntryKind.EXPIRE,
            amount=-lot.remaining,
            reason="expired",
            key=f"expire:{lot.id}",
            at=now,
        )
        if await uow.points.add_entry(entry) is None:
            continue
        await uow.points.change_balance(community_id, member_id, -lot.remaining, now)
        await uow.points.take_from_lot(lot.id, lot.remaining)
        expired += lot.remaining
    return expired


async def expire_due(uow: UnitOfWork, now: datetime, *, batch: int = 500) -> int:
    """The daily job: expire every lot past its date (one batch); returns the points expired."""
    members = {(c, m) for c, m, _ in await uow.points.due_lots(now, batch)}
    total = 0
    for community_id, member_id in sorted(members):
        total += await expire_member(uow, community_id, member_id, now)
    return total


async def tier_of(
    uow: UnitOfWork, community_id: int, member_id: int, now: datetime, rules: PointsRules
) -> Tier:
    """The member's tier, from the points credited in the last 12 months."""
    return rules.tier_for(await uow.points.earned(community_id, member_id, now - YEAR))


@dataclass(frozen=True, slots=True)
class Summary:
    """What /points shows."""

    balance: int
    tier: Tier
    next_tier: Tier | None
    earned_last_year: int
    expiring: list[tuple[int, date]]  # (points, local day they expire) in the next 30 days
    recent: list[LedgerLine]

    @property
    def to_next_tier(self) -> int:
        return self.next_tier.threshold - self.earned_last_year if self.next_tier else 0


async def summary(
    uow: UnitOfWork,
    community_id: int,
    member_id: int,
    *,
    now: datetime,
    rules: PointsRules,
    timezone: str,
) -> Summary:
    earned = await uow.points.earned(community_id, member_id, now - YEAR)
    lots = await uow.points.lots(community_id, member_id)
    soon = expiring(lots, now, timedelta(days=30))
    return Summary(
        balance=await uow.points.balance(community_id, member_id),
        tier=rules.tier_for(earned),
        next_tier=rules.next_tier(earned),
        earned_last_year=earned,
        expiring=[(lot.remaining, local_day(lot.expires_at, timezone)) for lot in soon],
        recent=await uow.points.recent(community_id, member_id, 10),
    )


@dataclass(frozen=True, slots=True)
class Leaderboard:
    """The top of a period, and where the asking member stands."""

    rows: list[tuple[int, str, int]]  # (rank, name, points)
    own_rank: int | None
    own_points: int


async def leaderboard(
    uow: UnitOfWork,
    community_id: int,
    member_id: int,
    *,
    since: datetime | None,
    size: int = 10,
) -> Leaderboard:
    """Points credited since ``since`` (all time when None), ranked; ties share a rank."""
    ranking = await uow.points.earned_by_member(community_id, since)
    rows: list[tuple[int, str, int]] = []
    own_rank, own_points = None, 0
    rank, previous = 0, None
    for position, (who, name, points) in enumerate(ranking, start=1):
        if points != previous:
            rank, previous = position, points
        if position <= size:
            rows.append((rank, name, points))
        if who == member_id:
            own_rank, own_points = rank, points
    return Leaderboard(rows=rows, own_rank=own_rank, own_points=own_points)


def rules_of(community: CommunityProfile) -> PointsRules:
    """The community's points rules: its operators' settings over the defaults."""
    return rules_from_settings(community.points_rules)


async def adjust(
    uow: UnitOfWork,
    *,
    community: CommunityProfile,
    member_id: int,
    amount: int,
    reason: str,
    actor_id: int,
    key: str,
    now: datetime,
) -> int:
    """An operator's grant (amount > 0) or deduction (amount < 0), audited; the new balance.

    A deduction never takes a balance below zero (NotEnoughPoints); replaying ``key``
    changes nothing.
    """
    if amount == 0:
        raise ValueError("an adjustment must not be zero")
    if amount > 0:
        done = await credit(
            uow,
            community_id=community.id,
            member_id=member_id,
            amount=amount,
            kind=EntryKind.GRANT,
            reason=reason,
            key=key,
            now=now,
            timezone=community.timezone,
            rules=rules_of(community),
            actor_id=actor_id,
        )
    else:
        done = await debit(
            uow,
            community_id=community.id,
            member_id=member_id,
            amount=-amount,
            kind=EntryKind.DEDUCT,
            reason=reason,
            key=key,
            now=now,
            actor_id=actor_id,
        )
    if done:
        await uow.audit.record(
            actor_id=actor_id,
            action="points.grant" if amount > 0 else "points.deduct",
            community_id=community.id,
            details={"member_id": member_id, "amount": amount, "reason": reason},
            now=now,
        )
    return await uow.points.balance(community.id, member_id)
