"""Referral notices: an inviter hears, in private and in their language, that a friend they
invited checked in and earned them points."""

from __future__ import annotations

from hearth.bot.notifier import OutboxWriter
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import referrals_texts
from hearth.services.ports import UnitOfWork


class OutboxReferralNotices:
    """Queues the notice in the outbox of the caller's transaction, once per key."""

    def __init__(self, outbox: OutboxWriter) -> None:
        self.outbox = outbox

    async def credited(
        self,
        uow: UnitOfWork,
        key: str,
        referrer: MemberProfile,
        community: CommunityProfile,
        friend: str,
        points: int,
    ) -> bool:
        with self.outbox.speaking_to(referrer, community):
            text = referrals_texts.inviter_credited(friend, community.title, points)
        return await self.outbox.to_member(uow, key, referrer, community, text, kind="referral")
