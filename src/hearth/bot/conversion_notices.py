"""Purchase notices: a member hears, in private and in their language, that a purchase or
trade-in the business reported earned them points."""

from __future__ import annotations

from hearth.bot.notifier import OutboxWriter
from hearth.domain.conversions import ConversionKind
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import conversions_texts
from hearth.services.ports import UnitOfWork


class OutboxConversionNotices:
    """Queues the notice in the outbox of the caller's transaction, once per key."""

    def __init__(self, outbox: OutboxWriter) -> None:
        self.outbox = outbox

    async def credited(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        kind: ConversionKind,
        points: int,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = conversions_texts.credited(kind, community.title, points)
        return await self.outbox.to_member(uow, key, member, community, text, kind="conversion")
