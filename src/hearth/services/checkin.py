"""Daily check-ins: one per local day, streaks with freezes, points for taking part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.calendar import local_day, start_of_local_day
from hearth.domain.members import CommunityProfile
from hearth.domain.points import (
    EntryKind,
    NewEntry,
    PointsRules,
    Tier,
    checkin_points,
    expiry_of,
)
from hearth.domain.streaks import AlreadyCheckedIn, CheckinOutcome, check_in
from hearth.services import points, referrals
from hearth.services.ports import ReferralNotices, UnitOfWork


class CheckedInToday(AlreadyCheckedIn):
    """A second check-in on the same local day, with the wait until the next one."""

    def __init__(self, streak: int, next_in: timedelta) -> None:
        super().__init__(streak)
        self.next_in = next_in


@dataclass(frozen=True, slots=True)
class CheckinResult:
    """Today's check-in: the streak, the points it earned, where the member stands now."""

    outcome: CheckinOutcome
    credits: list[tuple[str, int]]
    balance: int
    tier: Tier
    tier_before: Tier

    @property
    def earned(self) -> int:
        return sum(amount for _, amount in self.credits)

    @property
    def promoted(self) -> bool:
        return self.tier.threshold > self.tier_before.threshold


def time_to_next_day(now: datetime, timezone: str) -> timedelta:
    """How long until the community's next local day begins."""
    tomorrow = local_day(now, timezone) + timedelta(days=1)
    return start_of_local_day(tomorrow, timezone) - now


async def check_in_member(
    uow: UnitOfWork,
    *,
    community: CommunityProfile,
    member_id: int,
    now: datetime,
    rules: PointsRules,
    update_id: int | None = None,
    referral_notices: ReferralNotices | None = None,
) -> CheckinResult:
    """Check a member in for today (community time). Raises CheckedInToday on a second try.

    A member's first check-in credits whoever invited them (``referrals.credit_inviter``),
    who is told through ``referral_notices``.
    """
    today = local_day(now, community.timezone)
    previous = await uow.checkins.latest(community.id, member_id)
    try:
        outcome = check_in(previous, today)
    except AlreadyCheckedIn as already:
        raise CheckedInToday(already.streak, time_to_next_day(now, community.timezone)) from None
    if not await uow.checkins.add(community.id, member_id, outcome, now):
        # A concurrent check-in of the same member won the unique (member, day) row.
        raise CheckedInToday(outcome.streak, time_to_next_day(now, community.timezone))
    earned_before = await uow.points.earned(community.id, member_id, now - points.YEAR)
    tier_before = rules.tier_for(earned_before)
    credits = checkin_points(
        rules, tier_before, first_ever=outcome.first_ever, milestone=outcome.milestone
    )
    expires_at = expiry_of(now, rules.expiry_months, community.timezone)
    await points.credit_all(
        uow,
        [
            NewEntry(
                community_id=community.id,
                member_id=member_id,
                kind=EntryKind.EARN,
                amount=amount,
                reason=reason,
                key=f"{reason}:{community.id}:{member_id}:{today.isoformat()}",
                at=now,
                expires_at=expires_at,
            )
            for reason, amount in credits
        ],
    )
    await uow.activity.add_many(
        [
            ActivityRecord(
                community_id=community.id,
                member_id=member_id,
                kind=ActivityKind.CHECKIN,
                occurred_at=now,
                local_day=today,
                update_id=update_id,
            )
        ]
    )
    if outcome.first_ever:
        await referrals.credit_inviter(
            uow, community, member_id, rules=rules, now=now, notices=referral_notices
        )
    tier = rules.tier_for(earned_before + sum(amount for _, amount in credits))
    if tier != tier_before:  # the check-in's own answer tells the member
        await uow.memberships.set_tier(community.id, member_id, tier.name)
    return CheckinResult(
        outcome=outcome,
        credits=credits,
        balance=await uow.points.balance(community.id, member_id),
        tier=tier,
        tier_before=tier_before,
    )


@dataclass(frozen=True, slots=True)
class DayBoard:
    """Today's check-ins in a community."""

    day: date
    count: int
    top: list[tuple[str, int]]  # (first name, streak), longest first


async def day_board(
    uow: UnitOfWork, community: CommunityProfile, now: datetime, *, size: int = 5
) -> DayBoard:
    today = local_day(now, community.timezone)
    streaks = await uow.checkins.streaks_on(community.id, today)
    return DayBoard(
        day=today, count=len(streaks), top=[(name, streak) for _, name, streak in streaks[:size]]
    )
