"""Referrals: personal invites, who they brought, and the inviter's points (``domain/referrals``).

Opening an invite is recorded by /start (``members.start_bot``), the friend's join by the
membership rules (``members.member_joined``), the credit by their first check-in
(``checkin.check_in_member``) — each in the transaction of the update that caused it.
"""

from __future__ import annotations

from datetime import datetime

from hearth.domain.members import CommunityProfile
from hearth.domain.points import EntryKind, PointsRules
from hearth.domain.referrals import (
    Referral,
    ReferralCounts,
    ReferralOutcome,
    credit_key,
    creditable,
    referral_outcome,
)
from hearth.services import points
from hearth.services.ports import ReferralNotices, UnitOfWork

REASON = "referral"  # the ledger entry's reason


async def record(
    uow: UnitOfWork,
    *,
    community: CommunityProfile,
    referrer_id: int,
    person_id: int,
    known: bool,
    now: datetime,
) -> ReferralOutcome:
    """Someone opened ``referrer_id``'s invite to ``community``: record the referral unless
    it is their own, the inviter is no member, an invite brought them already (the first
    touch wins) or they were ``known`` to Hearth before (started the bot, or had a
    membership of the community)."""
    membership = await uow.memberships.get(community.id, referrer_id)
    outcome = referral_outcome(
        referrer_id=referrer_id,
        referred_id=person_id,
        referrer_is_member=membership is not None and membership.is_current,
        known=known,
        referred_before=await uow.referrals.get(community.id, person_id) is not None,
    )
    if outcome is ReferralOutcome.RECORDED:
        referral = Referral(community.id, referrer_id, person_id, referred_at=now)
        if not await uow.referrals.add(referral):  # a concurrent invite was first
            return ReferralOutcome.ALREADY_REFERRED
    return outcome


async def joined(uow: UnitOfWork, community_id: int, member_id: int, at: datetime) -> bool:
    """A member joined a group for the first time: if an invite brought them, they count
    as joined from now on. True when they were referred."""
    return await uow.referrals.mark_joined(community_id, member_id, at)


async def credit_inviter(
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    *,
    rules: PointsRules,
    now: datetime,
    notices: ReferralNotices | None = None,
) -> int:
    """The member checked in for the first time: credit whoever invited them, once, and tell
    the inviter in private. Returns the points credited (0 when nobody is due any)."""
    referral = await uow.referrals.get(community.id, member_id)
    if referral is None or not creditable(referral):
        return 0
    inviter = await uow.memberships.get(community.id, referral.referrer_id)
    if inviter is None or not inviter.is_current:
        return 0
    amount = rules.referral
    if not await uow.referrals.mark_credited(community.id, member_id, amount, now):
        return 0  # a concurrent check-in credited them
    key = credit_key(community.id, member_id)
    if amount <= 0:
        return 0
    await points.credit(
        uow,
        community_id=community.id,
        member_id=referral.referrer_id,
        amount=amount,
        kind=EntryKind.EARN,
        reason=REASON,
        key=key,
        now=now,
        timezone=community.timezone,
        rules=rules,
    )
    referrer = await uow.members.get(referral.referrer_id)
    friend = await uow.members.get(member_id)
    if notices is not None and referrer is not None and referrer.writable:
        name = friend.first_name if friend is not None else str(member_id)
        await notices.credited(uow, key, referrer, community, name, amount)
    return amount


async def counts(uow: UnitOfWork, community: CommunityProfile, member_id: int) -> ReferralCounts:
    """The member's referrals in the community: invited, joined, credited, points earned."""
    return await uow.referrals.counts(community.id, member_id)
