"""Operator answers that belong in private: lists of members, their tags and export files are
never posted in the group. A command sent in the group is answered in the operator's
private chat, and the group only hears where to look.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import segments_keyboards as buttons
from hearth.handlers import segments_texts as words
from hearth.handlers import texts
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.filters import OperatorDirectory
from hearth.handlers.people import is_group
from hearth.handlers.personal import (
    can_write_privately,
    chosen_operated_community,
    start_link_markup,
)
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


def picker_button(action: str) -> Callable[[CommunityProfile], CommunityChoice]:
    """The picker's button for a community: ``action`` there."""
    return lambda community: CommunityChoice(action=action, community_id=community.id)


async def answer_report(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    action: str,
    texts_of: Callable[[CommunityProfile], Awaitable[list[str]]],
) -> None:
    """Answer a report of several texts about the group the command was sent in, or in
    private about the operator's community; for several, a picker whose buttons carry
    ``action`` asks (``answer_picked_report`` answers them)."""
    where = community or await community_or_picker(
        message, bot, uow, operators, picker_button(action)
    )
    if where is not None:
        for text in await texts_of(where):
            await message.answer(text)


async def answer_picked_report(
    query: CallbackQuery,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    community_id: int,
    texts_of: Callable[[CommunityProfile], Awaitable[list[str]]],
) -> None:
    """A report's picker button pressed: the texts about its community, under the picker.
    Raises NotAnOperator unless the presser operates that very community."""
    chosen = await chosen_operated_community(query, bot, uow, operators, community_id)
    if chosen is None:
        return
    community, shown_on = chosen
    await query.answer()
    for text in await texts_of(community):
        await shown_on.answer(text)


class Sendable(Protocol):
    """An answer that knows how to send itself to a chat."""

    async def send(self, bot: Bot, chat_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class PrivateAnswer:
    """A text, with its buttons, or the caption of a ``document`` when there is one."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    document: BufferedInputFile | None = None

    async def send(self, bot: Bot, chat_id: int) -> None:
        if self.document is None:
            await bot.send_message(chat_id, self.text, reply_markup=self.markup)
        else:
            await bot.send_document(
                chat_id, self.document, caption=self.text, reply_markup=self.markup
            )


@dataclass(frozen=True, slots=True)
class PrivateRequest:
    """An operator's command whose answer belongs in private, with what answering needs:
    ``community`` is the group it was sent in (None in private)."""

    message: Message
    bot: Bot
    community: CommunityProfile | None
    member: MemberProfile | None
    uow: UnitOfWork
    directory: Directory

    async def answer(
        self,
        operators: OperatorDirectory,
        command: str,
        choice: Callable[[CommunityProfile], CallbackData],
        compose: Callable[[CommunityProfile], Awaitable[Sendable]],
    ) -> None:
        """Answer with ``compose(community)`` for the community the command is about: the
        group's, or in private the operator's only one; for several, a picker whose buttons
        carry ``choice(community)`` finishes the command instead (``community_or_picker``)."""
        where = self.community or await community_or_picker(
            self.message, self.bot, self.uow, operators, choice
        )
        if where is not None:
            await self.deliver(command, await compose(where))

    async def deliver(self, command: str, answer: Sendable) -> None:
        """Send ``answer`` where ``deliver_in_private`` says."""
        await deliver_in_private(
            self.message,
            partial(answer.send, self.bot),
            bot=self.bot,
            community=self.community,
            member=self.member,
            uow=self.uow,
            directory=self.directory,
            command=command,
        )


async def deliver_in_private(
    message: Message,
    send: Callable[[int], Awaitable[None]],
    *,
    bot: Bot,
    community: CommunityProfile | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    directory: Directory,
    command: str,
) -> None:
    """Run ``send(chat_id)`` for the chat the answer belongs in: the one the command came
    from in private; from a group, the operator's private chat, and "sent in private" in
    the group. When the bot cannot write to them there, the group gets how to open the
    chat instead, and nothing of the answer.
    """
    if not is_group(message.chat) or community is None:
        await send(message.chat.id)
        return
    if member is not None and can_write_privately(member):
        try:
            await send(member.id)
        except TelegramForbiddenError:
            await members.set_reachable(uow, directory, member_id=member.id, reachable=False)
        else:
            await message.reply(words.sent_in_private())
            return
    await message.reply(
        words.start_me_first(command), reply_markup=await start_link_markup(bot, community)
    )
