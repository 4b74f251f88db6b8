"""Personal answers: in private when the member allows it, so that the group stays quiet.

A group can take about 20 bot messages a minute; one member's balance or streak is of no
interest to the other 4,999. Members who started the bot get such answers in private;
the others get them in the group, with a one-tap link to start the bot.
"""

from __future__ import annotations

import logging
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup, Message, ReactionTypeEmoji

from hearth.domain.deep_links import community_payload, start_link
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import keyboards, texts
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
    return member is not None and member.started_bot and member.reachable


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
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Answer in private if the command came from a group and the member can be written to."""
    if not is_group(message.chat) or community is None:
        await message.answer(text, reply_markup=markup)
        return
    if member is not None and can_write_privately(member):
        try:
            await bot.send_message(member.id, text, reply_markup=markup)
            await react(bot, message, "👌")
            return
        except TelegramForbiddenError:
            await members.set_reachable(uow, directory, member_id=member.id, reachable=False)
    await message.reply(text, reply_markup=markup or await start_link_markup(bot, community))


async def react(bot: Bot, message: Message, emoji: str) -> None:
    """Acknowledge a group command with a reaction: it costs no message from the budget."""
    try:
        await bot.set_message_reaction(
            message.chat.id, message.message_id, [ReactionTypeEmoji(emoji=emoji)]
        )
    except TelegramAPIError as error:  # old servers, or reactions disabled in the group
        log.info("reaction in %s not set: %s", message.chat.id, error)


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
