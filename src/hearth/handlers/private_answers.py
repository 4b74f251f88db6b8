"""Operator answers that belong in private: lists of members, their tags and export files are
never posted in the group. A command sent in the group is answered in the operator's
private chat, and the group only hears where to look.
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import segments_keyboards as buttons
from hearth.handlers import segments_texts as words
from hearth.handlers import texts
from hearth.handlers.filters import OperatorDirectory
from hearth.handlers.people import is_group
from hearth.handlers.personal import can_write_privately, start_link_markup
from hearth.services import members
from hearth.services.directory import Directory
from hearth.services.ports import UnitOfWork


async def community_or_picker(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    choice: Callable[[CommunityProfile], CallbackData],
) -> CommunityProfile | None:
    """In private: the operator's only community. For several, a picker whose buttons carry
    ``choice(community)``, and None (the button finishes the command); for none, a hint."""
    assert message.from_user is not None
    operated = await operators.operated(bot, uow, message.from_user.id)
    if len(operated) == 1:
        return operated[0]
    if operated:
        await message.answer(
            texts.choose_community(),
            reply_markup=buttons.community_picker([(each, choice(each)) for each in operated]),
        )
    else:
        await message.answer(texts.no_communities())
    return None


async def answer_in_private(
    message: Message,
    text: str,
    *,
    bot: Bot,
    community: CommunityProfile | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    directory: Directory,
    command: str,
    markup: InlineKeyboardMarkup | None = None,
    document: BufferedInputFile | None = None,
) -> None:
    """Answer with ``text`` (the caption when there is a ``document``) in private.

    From a group: in the operator's private chat, and "sent in private" in the group; when
    the bot cannot write to them there, the group gets how to open the chat instead.
    """
    if not is_group(message.chat) or community is None:
        await _send(bot, message.chat.id, text, markup, document)
        return
    if member is not None and can_write_privately(member):
        try:
            await _send(bot, member.id, text, markup, document)
        except TelegramForbiddenError:
            await members.set_reachable(uow, directory, member_id=member.id, reachable=False)
        else:
            await message.reply(words.sent_in_private())
            return
    await message.reply(
        words.start_me_first(command), reply_markup=await start_link_markup(bot, community)
    )


async def _send(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    document: BufferedInputFile | None,
) -> None:
    if document is None:
        await bot.send_message(chat_id, text, reply_markup=markup)
    else:
        await bot.send_document(chat_id, document, caption=text, reply_markup=markup)
