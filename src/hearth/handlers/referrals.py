"""/invite: a member's personal invite link to their community, with a button to share it.

The link opens the private chat with the bot (``/start r<community>_<member>``); what the
friend's /start records is ``services/referrals.py``'s decision.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from hearth.domain.deep_links import referral_payload, start_link
from hearth.domain.members import CommunityProfile, MemberProfile, Person
from hearth.handlers import referrals_texts as words
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.personal import (
    Acknowledger,
    answer_personally,
    chosen_community,
    only_community,
)
from hearth.services.directory import Directory
from hearth.services.points import rules_of
from hearth.services.ports import UnitOfWork

ACTION = "invite"  # the community picker's buttons


def build() -> Router:
    router = Router(name="referrals")
    router.message.register(show_invite, Command("invite"))
    router.callback_query.register(invite_of, CommunityChoice.filter(F.action == ACTION))
    return router


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
    bot: Bot, community: CommunityProfile, member_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    link = await invite_link(bot, community, member_id)
    text = words.invite(community.title, link, rules_of(community).referral)
    return text, share_buttons(link, community.title)


async def show_invite(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    directory: Directory,
    acks: Acknowledger,
) -> None:
    if person is None:
        return
    if community is not None:
        text, markup = await _invite(bot, community, person.id)
        await answer_personally(
            message,
            text,
            bot=bot,
            member=member,
            community=community,
            uow=uow,
            directory=directory,
            acks=acks,
            markup=markup,
        )
        return
    where = await only_community(message, uow, person.id, ACTION)
    if where is not None:
        text, markup = await _invite(bot, where, person.id)
        await message.answer(text, reply_markup=markup)


async def invite_of(
    query: CallbackQuery, callback_data: CommunityChoice, bot: Bot, uow: UnitOfWork
) -> None:
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None:
        return
    text, markup = await _invite(bot, community, query.from_user.id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)
