"""Nudges, rendered in the member's language with their buttons and queued in the outbox."""

from __future__ import annotations

from hearth.bot.notifier import OutboxWriter
from hearth.domain.delivery import Priority
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.domain.nudges import NudgeMessage
from hearth.handlers import keyboards, nudges_texts
from hearth.services.ports import UnitOfWork


def nudge_key(nudge_id: int) -> str:
    """The outbox key of a nudge: queued once, however often the sender runs."""
    return f"nudge:{nudge_id}"


class OutboxNudges:
    """The nudge sender of the scheduler (``ports.NudgeSender``)."""

    def __init__(self, outbox: OutboxWriter) -> None:
        self.outbox = outbox

    async def nudge(
        self,
        uow: UnitOfWork,
        member: MemberProfile,
        community: CommunityProfile,
        message: NudgeMessage,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = nudges_texts.nudge_text(
                community.title, member.first_name, message, community.timezone
            )
            markup = keyboards.nudge(message)
        return await self.outbox.to_member(
            uow,
            nudge_key(message.nudge_id),
            member,
            community,
            text,
            kind="nudge",
            markup=markup,
            priority=Priority.REMINDER,
        )
