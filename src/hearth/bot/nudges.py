"""Nudges, rendered in the member's language with their buttons and queued in the outbox."""

from __future__ import annotations

from datetime import datetime

from hearth.bot.notifier import OutboxWriter
from hearth.domain.delivery import Priority
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.domain.nudges import NudgeMessage
from hearth.handlers import keyboards, nudges_texts
from hearth.services import nudges
from hearth.services.ports import UnitOfWork

NUDGE_KIND = "nudge"  # the outbox kind of nudges


def nudge_key(nudge_id: int) -> str:
    """The outbox key of a nudge: queued once, however often the sender runs."""
    return f"nudge:{nudge_id}"


async def nudge_expired(uow: UnitOfWork, key: str) -> None:
    """The outbox let a nudge expire unsent (``nudge_key``): the nudge ends skipped, late."""
    prefix, _, nudge_id = key.partition(":")
    if prefix == "nudge" and nudge_id.isdigit():
        await nudges.expired(uow, int(nudge_id))


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
        *,
        not_after: datetime | None = None,
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
            kind=NUDGE_KIND,
            markup=markup,
            priority=Priority.REMINDER,
            not_after=not_after,
        )
