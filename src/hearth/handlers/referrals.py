"""/invite: a member's personal invite link to their community, with a button to share it.

The link opens the private chat with the bot (``/start r<community>_<member>``); what the
friend's /start records is ``services/referrals.py``'s decision.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiogram import Bot, Router
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from hearth.domain.deep_links import referral_payload, start_link
from hearth.domain.members import CommunityProfile
from hearth.handlers import referrals_texts as words
from hearth.handlers.own_card import card_router
from hearth.services.points import rules_of
from hearth.services.ports import Clock, UnitOfWork

ACTION = "invite"  # the community picker's buttons


def build() -> Router:
    return card_router("referrals", "invite", ACTION, _invite)


async def invite_link(bot: Bot, community: CommunityProfile, member_id: int) -> str:
    """The member's personal invite: a t.me link that starts the bot with their payload."""
    me = await bot.me()
    return start_link(me.username or "", referral_payload(community.id, member_id))


def share_buttons(link: str, title: str) -> InlineKeyboardMarkup:
    """One button that opens Telegram's share sheet with the invite."""
    query = urlencode({"url": link, "text": words.share_text(title)})
    builder = InlineKeyboardBuilder()
    builder.button(text=words.share_button(), url=f"https://t.me/share/url?{query}")
    return InlineKeyboardMarkup(inline_keyboard=builder.export())


async def _invite(
    bot: Bot, _uow: UnitOfWork, _clock: Clock, community: CommunityProfile, member_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    link = await invite_link(bot, community, member_id)
    text = words.invite(community.title, link, rules_of(community).referral)
    return text, share_buttons(link, community.title)
