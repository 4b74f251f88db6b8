"""A card about the member themself (/me, /invite): in a group it is answered personally
(in private when the member allows it), in private for their only community, or after a
picker whose button finishes the command."""

from __future__ import annotations

from typing import Protocol

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from hearth.domain.members import CommunityProfile, MemberProfile, Person
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.personal import (
    Acknowledger,
    answer_personally,
    chosen_community,
    only_community,
)
from hearth.services.directory import Directory
from hearth.services.ports import Clock, UnitOfWork


class Card(Protocol):
    """The card's text and buttons for ``member_id`` in ``community``."""

    async def __call__(
        self,
        bot: Bot,
        uow: UnitOfWork,
        clock: Clock,
        community: CommunityProfile,
        member_id: int,
        /,
    ) -> tuple[str, InlineKeyboardMarkup]: ...


def card_router(name: str, command: str, action: str, card: Card) -> Router:
    """A router ``name`` that answers ``/command`` with ``card``; the picker's buttons carry
    ``action``."""

    async def show(
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
            text, markup = await card(bot, uow, clock, community, person.id)
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
        where = await only_community(message, uow, person.id, action)
        if where is not None:
            text, markup = await card(bot, uow, clock, where, person.id)
            await message.answer(text, reply_markup=markup)

    async def show_in(
        query: CallbackQuery,
        callback_data: CommunityChoice,
        bot: Bot,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        community = await chosen_community(query, uow, callback_data.community_id)
        if community is None:
            return
        text, markup = await card(bot, uow, clock, community, query.from_user.id)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(text, reply_markup=markup)

    router = Router(name=name)
    router.message.register(show, Command(command))
    router.callback_query.register(show_in, CommunityChoice.filter(F.action == action))
    return router
