"""Personal answers: in private when the member allows it, so that the group stays quiet.

A group can take about 20 bot messages a minute; one member's balance or streak is of no
interest to the other 4,999. Members who started the bot get such answers in private;
the others get them in the group, with a one-tap link to start the bot.
"""

from __future__ import annotations

import logging
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from hearth.domain.deep_links import community_payload, start_link
from hearth.domain.errors import NotAnOperator
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import keyboards, texts
from hearth.handlers.filters import OperatorDirectory
from hearth.handlers.people import is_group
from hearth.services import members
from hearth.services.directory import Directory
from hearth.services.ports import UnitOfWork

log = logging.getLogger(__name__)


class Acknowledger(Protocol):
    """Sends acknowledgements after the update, within Telegram's limits."""

    def react(self, chat_id: int, message_id: int, emoji: str) -> None: ...

    def tell(self, member_id: int, text: str) -> None: ...


def can_write_privately(member: MemberProfile | None) -> bool:
    return member is not None and member.writable


async def start_link_markup(bot: Bot, community: CommunityProfile) -> InlineKeyboardMarkup:
    me = await bot.me()
    return keyboards.start_bot(start_link(me.username or "", community_payload(community.id)))


async def answer_personally(
    message: Message,
    text: str,
    *,
    bot: Bot,
    member: MemberProfile | None,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    directory: Directory,
    acks: Acknowledger,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Answer in private if the command came from a group and the member can be written to."""
    if not is_group(message.chat) or community is None:
        await message.answer(text, reply_markup=markup)
        return
    if member is not None and can_write_privately(member):
        try:
            await bot.send_message(member.id, text, reply_markup=markup)
            acks.react(message.chat.id, message.message_id, "👌")
            return
        except TelegramForbiddenError:
            await members.set_reachable(uow, directory, member_id=member.id, reachable=False)
    await message.reply(text, reply_markup=markup or await start_link_markup(bot, community))


async def only_community(
    message: Message, uow: UnitOfWork, member_id: int, action: str
) -> CommunityProfile | None:
    """In private: the member's only community; otherwise answer with a picker (or a hint
    when there is none) and return None — the picker's button finishes the action."""
    communities = await uow.memberships.communities_of(member_id)
    if len(communities) == 1:
        return communities[0]
    if communities:
        await message.answer(
            texts.choose_community(), reply_markup=keyboards.community_actions(communities, action)
        )
    else:
        await message.answer(texts.no_community())
    return None


async def chosen_community(
    query: CallbackQuery, uow: UnitOfWork, community_id: int
) -> CommunityProfile | None:
    """The community a picker's button names, if the member still belongs to it.

    Buttons may be old or forged: otherwise the press is answered as stale and None returned.
    """
    for community in await uow.memberships.communities_of(query.from_user.id):
        if community.id == community_id:
            return community
    await query.answer(texts.stale_button(), show_alert=True)
    return None


async def chosen_operated_community(
    query: CallbackQuery,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    community_id: int,
) -> tuple[CommunityProfile, Message] | None:
    """The community an operator's picker button names, and the message it sits on.

    Raises NotAnOperator unless the presser operates that very community (the button may be
    old or forged); a community gone is answered as stale and None returned.
    """
    if not await operators.is_operator(bot, community_id, query.from_user.id):
        raise NotAnOperator()
    community = await uow.communities.get(community_id)
    if community is None or not isinstance(query.message, Message):
        await query.answer(texts.stale_button(), show_alert=True)
        return None
    return community, query.message


async def operated_community(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
) -> CommunityProfile | None:
    """The group an operator's command was sent in, or their only community in private;
    otherwise None, after telling them to send the command in the group it is about."""
    if community is not None:
        return community
    assert message.from_user is not None
    operated = await operators.operated(bot, uow, message.from_user.id)
    if len(operated) == 1:
        return operated[0]
    await message.answer(texts.group_only(message.text.split()[0][1:] if message.text else ""))
    return None
