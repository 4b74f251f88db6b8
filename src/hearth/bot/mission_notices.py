"""Newcomer mission notes: a newcomer hears, in private and in their language, that a
mission is done (and the bonus earned)."""

from __future__ import annotations

from hearth.bot.notifier import OutboxWriter
from hearth.domain.delivery import Priority
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.domain.missions import Mission
from hearth.handlers import missions_texts
from hearth.services.ports import UnitOfWork


class OutboxMissionNotices:
    """Queues the note in the outbox of the caller's transaction, once per key."""

    def __init__(self, outbox: OutboxWriter) -> None:
        self.outbox = outbox

    async def completed(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        mission: Mission,
        points: int,
        remaining: int,
        bonus: int,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = missions_texts.completed(community.title, mission, points, remaining, bonus)
        # The answer to what the member just did: it goes before reminders and broadcasts.
        return await self.outbox.to_member(
            uow, key, member, community, text, kind="mission", priority=Priority.REPLY
        )
