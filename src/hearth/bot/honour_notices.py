"""What the honour boards write on their own initiative, rendered and queued in the outbox:
reports to review (with the proof photo) for operators, decisions for members, and the
finished month's board for the group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hearth.bot.notifier import OutboxWriter, message
from hearth.domain.delivery import Priority
from hearth.domain.honour import Board, HonourMetric, HonourReport
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import honour_texts
from hearth.handlers.honour_callbacks import decision_buttons
from hearth.services.ports import UnitOfWork


class OutboxHonourNotices:
    """Queues the honour boards' messages in each reader's language (the group's for a board)."""

    def __init__(
        self,
        outbox: OutboxWriter,
        operators: Callable[[CommunityProfile], Awaitable[list[int]]],
    ) -> None:
        self.outbox = outbox
        self._operators = operators

    async def operators(self, community: CommunityProfile) -> list[int]:
        return await self._operators(community)

    async def review(
        self,
        uow: UnitOfWork,
        key: str,
        operator: MemberProfile,
        community: CommunityProfile,
        metric: HonourMetric,
        report: HonourReport,
        reporter: str,
    ) -> bool:
        with self.outbox.speaking_to(operator, community):
            text = honour_texts.review(metric, report, reporter, community.title)
            markup = decision_buttons(report.id)
        return await self.outbox.to_member(
            uow,
            key,
            operator,
            community,
            text,
            kind="honour_review",
            markup=markup,
            photo=report.photo,
        )

    async def decided(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        metric: HonourMetric,
        report: HonourReport,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = honour_texts.decided_for_member(metric, report, community.title)
        return await self.outbox.to_member(
            uow, key, member, community, text, kind="honour_decision", priority=Priority.REPLY
        )

    async def board(
        self, uow: UnitOfWork, key: str, community: CommunityProfile, board: Board
    ) -> bool:
        with self.outbox.speaking_to(None, community):
            text = honour_texts.final_board(board, community.title)
        return await self.outbox.queue(
            uow, message(key, community.id, text, kind="honour_board", community_id=community.id)
        )
