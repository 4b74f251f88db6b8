"""/me: where the member stands in their community — points, profile answers, referrals
and their invite link. In a group it is answered in private when the member allows it."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from hearth.domain.members import CommunityProfile, MemberProfile, Person
from hearth.handlers import me_texts
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.personal import (
    Acknowledger,
    answer_personally,
    chosen_community,
    only_community,
)
from hearth.handlers.referrals import invite_link, share_buttons
from hearth.services import me
from hearth.services.directory import Directory
from hearth.services.ports import Clock, UnitOfWork

ACTION = "me"  # the community picker's buttons


def build() -> Router:
    router = Router(name="me")
    router.message.register(show_me, Command("me"))
    router.callback_query.register(me_in, CommunityChoice.filter(F.action == ACTION))
    return router


async def _card(
    bot: Bot, uow: UnitOfWork, community: CommunityProfile, member_id: int, clock: Clock
) -> tuple[str, InlineKeyboardMarkup]:
    overview = await me.overview(uow, community, member_id, clock.now())
    link = await invite_link(bot, community, member_id)
    return me_texts.card(overview, link), share_buttons(link, community.title)


async def show_me(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    directory: Directory,
    acks: Acknowledger,
    clock: Clock,
) -> None:
    if person is None:
        return
    if community is not None:
        text, markup = await _card(bot, uow, community, person.id, clock)
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
        text, markup = await _card(bot, uow, where, person.id, clock)
        await message.answer(text, reply_markup=markup)


async def me_in(
    query: CallbackQuery, callback_data: CommunityChoice, bot: Bot, uow: UnitOfWork, clock: Clock
) -> None:
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None:
        return
    text, markup = await _card(bot, uow, community, query.from_user.id, clock)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)
