"""/me: where the member stands in their community — points, profile answers, referrals
and their invite link. In a group it is answered in private when the member allows it."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import InlineKeyboardMarkup

from hearth.domain.members import CommunityProfile
from hearth.handlers import me_texts
from hearth.handlers.own_card import card_router
from hearth.handlers.referrals import invite_link, share_buttons
from hearth.services import me
from hearth.services.ports import Clock, UnitOfWork

ACTION = "me"  # the community picker's buttons


def build() -> Router:
    return card_router("me", "me", ACTION, _card)


async def _card(
    bot: Bot, uow: UnitOfWork, clock: Clock, community: CommunityProfile, member_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    overview = await me.overview(uow, community, member_id, clock.now())
    link = await invite_link(bot, community, member_id)
    return me_texts.card(overview, link), share_buttons(link, community.title)
