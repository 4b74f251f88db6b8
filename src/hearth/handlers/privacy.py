"""/forget_me for members and /forget for operators: erase a member's personal data.

Both ask first, with a button. The button carries a nonce that must match the one kept in
the asker's own conversation state (like /grant's): a replayed, copied or forged button
finds no match and changes nothing. /forget is checked again for the very community when
pressed, and the member is not messaged. The data work is services/privacy.py's.
"""

from __future__ import annotations

import re
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from hearth.domain.errors import InvalidArgument, NotAnOperator
from hearth.domain.members import CommunityProfile
from hearth.handlers import privacy_texts, texts
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import start_link_markup
from hearth.handlers.replies import redirect, replace_message
from hearth.handlers.rewards_callbacks import NONCE, new_nonce
from hearth.services import members, privacy
from hearth.services.directory import Directory
from hearth.services.member_card import find_member
from hearth.services.ports import Clock, UnitOfWork

_REFERENCE = re.compile(members.MEMBER_REFERENCE)
_FORGET_ME = "forget_me"  # keys of the pending confirmations in the conversation state
_FORGET = "forget"


class ForgetMeAnswer(CallbackData, prefix="fme1"):
    """A member confirmed or cancelled erasing their own data."""

    nonce: str = Field(pattern=NONCE)
    confirmed: bool


class ForgetAnswer(CallbackData, prefix="fgt1"):
    """An operator confirmed or cancelled erasing a member's data."""

    nonce: str = Field(pattern=NONCE)
    confirmed: bool


def build() -> Router:
    router = Router(name="privacy")
    router.message.register(forget_me, Command("forget_me"), InPrivate())
    router.message.register(forget_me_in_group, Command("forget_me"), InGroup())
    router.callback_query.register(forget_me_answered, ForgetMeAnswer.filter(), InPrivate())
    # Non-operators' /forget reaches the fallback's refusal (it is an operator command).
    router.message.register(forget, Command("forget"), InPrivate(), IsOperator())
    router.message.register(
        redirect(lambda _command: privacy_texts.forget_in_private()),
        Command("forget"),
        InGroup(),
        IsOperator(),
    )
    router.callback_query.register(
        forget_answered, ForgetAnswer.filter(), InPrivate(), IsOperator()
    )
    router.callback_query.register(refuse_non_operator_button, ForgetAnswer.filter())
    return router


def _buttons(
    confirm: str, cancel: str, answer: type[ForgetMeAnswer | ForgetAnswer], nonce: str
) -> InlineKeyboardMarkup:
    """Confirm and cancel, side by side, both carrying the pending question's nonce."""
    builder = InlineKeyboardBuilder()
    builder.button(text=confirm, callback_data=answer(nonce=nonce, confirmed=True))
    builder.button(text=cancel, callback_data=answer(nonce=nonce, confirmed=False))
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(2).export())


async def _pending(state: FSMContext, key: str, nonce: str) -> dict[str, Any] | None:
    """The confirmation waiting under ``key`` if the button's nonce is its own; used once."""
    stored = (await state.get_data()).get(key)
    if not isinstance(stored, dict) or stored.get("nonce") != nonce:
        return None
    await state.update_data({key: None})
    return stored


# -- members


async def forget_me(message: Message, state: FSMContext) -> None:
    nonce = new_nonce()
    await state.update_data({_FORGET_ME: {"nonce": nonce}})
    await message.answer(
        privacy_texts.forget_me_explanation(),
        reply_markup=_buttons(
            privacy_texts.erase_button(), privacy_texts.keep_button(), ForgetMeAnswer, nonce
        ),
    )


async def forget_me_in_group(
    message: Message, bot: Bot, community: CommunityProfile | None
) -> None:
    markup = await start_link_markup(bot, community) if community is not None else None
    await message.reply(privacy_texts.forget_me_in_private(), reply_markup=markup)


async def forget_me_answered(
    query: CallbackQuery,
    callback_data: ForgetMeAnswer,
    state: FSMContext,
    uow: UnitOfWork,
    directory: Directory,
    clock: Clock,
) -> None:
    if await _pending(state, _FORGET_ME, callback_data.nonce) is None:
        await query.answer(texts.stale_button(), show_alert=True)  # old, replayed or forged
        return
    await query.answer()
    if not callback_data.confirmed:
        await replace_message(query, privacy_texts.forget_me_kept(), None)
        return
    await privacy.forget(
        uow,
        directory,
        member_id=query.from_user.id,
        anonymous_name=privacy_texts.anonymous_name(),
        actor_id=query.from_user.id,
        community_id=None,
        now=clock.now(),
    )
    await replace_message(query, privacy_texts.forget_me_done(), None)


# -- operators


async def forget(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
) -> None:
    reference = (command.args or "").strip()
    if not _REFERENCE.fullmatch(reference):
        raise InvalidArgument(privacy_texts.forget_usage())
    assert message.from_user is not None
    operated = await operators.operated(bot, uow, message.from_user.id)
    member, where = await find_member(uow, operated, reference)
    if member is None:
        await message.answer(texts.unknown_member())
        return
    nonce = new_nonce()
    pending = {"nonce": nonce, "member_id": member.id, "community_id": where[0].id}
    await state.update_data({_FORGET: pending})
    await message.answer(
        privacy_texts.confirm_forget(member.first_name),
        reply_markup=_buttons(
            privacy_texts.forget_button(),
            privacy_texts.cancel_button(),
            ForgetAnswer,
            nonce,
        ),
    )


async def forget_answered(
    query: CallbackQuery,
    callback_data: ForgetAnswer,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    directory: Directory,
    state: FSMContext,
    clock: Clock,
) -> None:
    pending = await _pending(state, _FORGET, callback_data.nonce)
    if pending is None:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    if not callback_data.confirmed:
        await query.answer()
        await replace_message(query, privacy_texts.forget_cancelled(), None)
        return
    # Checked again for this very community: the operator may have lost their rights since.
    community_id = int(pending["community_id"])
    if not await operators.is_operator(bot, community_id, query.from_user.id):
        raise NotAnOperator()
    await query.answer()
    member = await members.member_or_former(uow, community_id, str(pending["member_id"]))
    if member is None:
        await replace_message(query, texts.unknown_member(), None)
        return
    await privacy.forget(
        uow,
        directory,
        member_id=member.id,
        anonymous_name=privacy_texts.anonymous_name(),
        actor_id=query.from_user.id,
        community_id=community_id,
        now=clock.now(),
    )
    await replace_message(query, privacy_texts.forget_done(member.first_name), None)
