"""What the feedback box writes on its own initiative, rendered and queued in the outbox.

Operators are told that feedback waits, but not once per item: every item within one
window of ``NOTE_SECONDS`` refreshes a single queued note (the latest count wins), which
the delivery worker sends when the window closes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hearth.bot.notifier import OutboxWriter
from hearth.domain.delivery import Priority
from hearth.domain.feedback import FeedbackItem
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import feedback_texts
from hearth.services.ports import UnitOfWork

NOTE_SECONDS = 300  # at most one "feedback is waiting" note per operator and 5 minutes


class OutboxFeedbackNotices:
    """Queues the feedback box's messages in each reader's language."""

    def __init__(
        self,
        outbox: OutboxWriter,
        operators: Callable[[CommunityProfile], Awaitable[list[int]]],
        note_seconds: int = NOTE_SECONDS,
    ) -> None:
        self.outbox = outbox
        self._operators = operators
        self.note_seconds = note_seconds

    async def operators(self, community: CommunityProfile) -> list[int]:
        return await self._operators(community)

    async def feedback_waiting(
        self, uow: UnitOfWork, community: CommunityProfile, operator: MemberProfile, waiting: int
    ) -> None:
        await self.outbox.operator_note(
            uow,
            community,
            operator,
            lambda: feedback_texts.waiting(community.title, waiting),
            kind="feedback_note",
            window=self.note_seconds,
        )

    async def answered(
        self,
        uow: UnitOfWork,
        item: FeedbackItem,
        member: MemberProfile,
        community: CommunityProfile,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = feedback_texts.answer_for_member(community.title, item.reply or "")
        return await self.outbox.to_member(
            uow,
            f"feedback-reply:{item.id}",
            member,
            community,
            text,
            kind="feedback_reply",
            priority=Priority.REPLY,
        )
