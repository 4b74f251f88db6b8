"""What the lucky draws write on their own initiative, rendered and queued in the outbox:
the announcement (with its Enter button), the results and a cancellation in the group, in
the community's language; the winners' and the refunded entrants' notes in private."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup

from hearth.bot.notifier import OutboxWriter, message
from hearth.domain.delivery import Priority
from hearth.domain.draws import Draw
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import draws_texts
from hearth.handlers.draws_callbacks import enter_button
from hearth.services.ports import UnitOfWork


class OutboxDrawNotices:
    """Queues the draws' messages in each reader's language (the group's for the group)."""

    def __init__(self, outbox: OutboxWriter) -> None:
        self.outbox = outbox

    async def announce(
        self,
        uow: UnitOfWork,
        key: str,
        draw: Draw,
        community: CommunityProfile,
        event_title: str | None,
    ) -> bool:
        with self.outbox.speaking_to(None, community):
            text = draws_texts.announcement(draw, community, event_title)
            markup = enter_button(draw)
        return await self._to_group(
            uow, key, community, text, kind="draw_announcement", markup=markup
        )

    async def results(
        self,
        uow: UnitOfWork,
        key: str,
        draw: Draw,
        community: CommunityProfile,
        winners: Sequence[tuple[int, str]],
    ) -> bool:
        with self.outbox.speaking_to(None, community):
            text = draws_texts.results(draw, community, winners)
        return await self._to_group(uow, key, community, text, kind="draw_results")

    async def won(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        draw: Draw,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = draws_texts.won(draw, community)
        return await self.outbox.to_member(uow, key, member, community, text, kind="draw_won")

    async def cancelled(
        self, uow: UnitOfWork, key: str, draw: Draw, community: CommunityProfile
    ) -> bool:
        with self.outbox.speaking_to(None, community):
            text = draws_texts.cancelled_in_group(draw)
        return await self._to_group(uow, key, community, text, kind="draw_cancelled")

    async def refunded(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        draw: Draw,
        refund: int,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = draws_texts.refunded(draw, community, refund)
        return await self.outbox.to_member(uow, key, member, community, text, kind="draw_refunded")

    async def _to_group(
        self,
        uow: UnitOfWork,
        key: str,
        community: CommunityProfile,
        text: str,
        *,
        kind: str,
        markup: InlineKeyboardMarkup | None = None,
    ) -> bool:
        return await self.outbox.queue(
            uow,
            message(
                key,
                community.id,
                text,
                kind=kind,
                markup=markup,
                priority=Priority.BROADCAST,
                community_id=community.id,
            ),
        )
