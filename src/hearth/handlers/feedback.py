"""The feedback box: /feedback for members (a text, a photo, or /feedback and then the next
message), /inbox and /reply for operators, in private. Operators' buttons are checked
against the item's community on every press.
"""

from __future__ import annotations

import re

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from hearth.domain.errors import InvalidArgument
from hearth.domain.feedback import (
    EmptyFeedback,
    FeedbackDraft,
    FeedbackSettled,
    FeedbackTooLong,
    UnknownFeedback,
    draft,
)
from hearth.domain.members import CommunityProfile, Person
from hearth.domain.rate_limits import OverLimit
from hearth.handlers import feedback_texts, texts
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.events_dialog import NotACommand
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.feedback_callbacks import (
    FeedbackAct,
    FeedbackFor,
    InboxPage,
    ItemAction,
    community_choice,
    inbox_buttons,
)
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_community, chosen_operated_community
from hearth.handlers.private_answers import community_or_picker, picker_button
from hearth.handlers.replies import redirect, replace_message
from hearth.handlers.rewards_callbacks import new_nonce
from hearth.services import feedback
from hearth.services.ports import Clock, FeedbackNotices, UnitOfWork

ACTION = "inbox"  # the operators' community picker
DRAFT = "feedback_draft"  # FSM data: feedback waiting for its community
REPLYING = "feedback_reply"  # FSM data: the item an operator is answering
_REPLY = re.compile(r"#?(\d{1,18})\s+(.+)", re.DOTALL)
_MEMBER_REFUSALS = (OverLimit, EmptyFeedback, FeedbackTooLong)
_OPERATOR_REFUSALS = (UnknownFeedback, FeedbackSettled, EmptyFeedback, FeedbackTooLong)


class FeedbackDialog(StatesGroup):
    writing = State()  # a member sent /feedback alone: the next message is the feedback
    replying = State()  # an operator pressed Reply: the next message is the answer


def build() -> Router:
    router = Router(name="feedback")
    router.message.register(redirect(_in_private), Command("feedback"), InGroup())
    router.message.register(start, Command("feedback"), InPrivate())
    router.message.register(
        cancel, Command("cancel"), StateFilter(FeedbackDialog.writing), InPrivate()
    )
    router.message.register(
        take_feedback, StateFilter(FeedbackDialog.writing), InPrivate(), NotACommand()
    )
    router.callback_query.register(community_chosen, FeedbackFor.filter())
    # Operators, in private; the operator check runs after the command matched.
    router.message.register(
        redirect(_inbox_in_private), Command("inbox", "reply"), InGroup(), IsOperator()
    )
    router.message.register(show_inbox, Command("inbox"), InPrivate(), IsOperator())
    router.message.register(reply_command, Command("reply"), InPrivate(), IsOperator())
    router.callback_query.register(
        inbox_of, CommunityChoice.filter(F.action == ACTION), InPrivate(), IsOperator()
    )
    router.callback_query.register(turn_page, InboxPage.filter(), IsOperator())
    router.callback_query.register(act, FeedbackAct.filter(), IsOperator())
    router.message.register(
        cancel_reply, Command("cancel"), StateFilter(FeedbackDialog.replying), InPrivate()
    )
    router.message.register(
        take_reply, StateFilter(FeedbackDialog.replying), InPrivate(), NotACommand()
    )
    # Whoever presses these and is not an operator (commands fall through to the fallback).
    router.callback_query.register(refuse_non_operator_button, InboxPage.filter())
    router.callback_query.register(refuse_non_operator_button, FeedbackAct.filter())
    return router


def _in_private(command: str) -> str:
    return feedback_texts.in_private()


def _inbox_in_private(command: str) -> str:
    return feedback_texts.inbox_in_private(command)


# -- members


async def start(
    message: Message,
    command: CommandObject,
    person: Person | None,
    uow: UnitOfWork,
    feedback_notices: FeedbackNotices,
    state: FSMContext,
    clock: Clock,
) -> None:
    if person is None:
        return
    if await state.get_state() == FeedbackDialog.writing.state:
        await state.clear()  # /feedback again: this one replaces the one waited for
    photo = message.photo[-1].file_id if message.photo else None
    if command.args or photo is not None:
        await _take(message, person, uow, feedback_notices, state, clock, command.args, photo)
        return
    if not await uow.memberships.communities_of(person.id):
        await message.answer(texts.no_community())
        return
    try:
        await feedback.may_send(uow, person.id, clock.now())
    except OverLimit as error:
        await message.answer(feedback_texts.refusal(error, clock.now()))
        return
    await state.clear()
    await state.set_state(FeedbackDialog.writing)
    await message.answer(feedback_texts.prompt())


async def take_feedback(
    message: Message,
    person: Person | None,
    uow: UnitOfWork,
    feedback_notices: FeedbackNotices,
    state: FSMContext,
    clock: Clock,
) -> None:
    if person is None:
        return
    photo = message.photo[-1].file_id if message.photo else None
    words = message.text if message.text is not None else message.caption
    if words is None and photo is None:
        await message.answer(feedback_texts.not_understood())
        return
    await state.clear()
    await _take(message, person, uow, feedback_notices, state, clock, words, photo)


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(feedback_texts.cancelled())


async def _take(
    message: Message,
    person: Person,
    uow: UnitOfWork,
    feedback_notices: FeedbackNotices,
    state: FSMContext,
    clock: Clock,
    words: str | None,
    photo: str | None,
) -> None:
    """Send the feedback a message carries to the member's community, or ask which one."""
    try:
        item = draft(words, photo, message.message_id)
    except _MEMBER_REFUSALS as error:
        await message.answer(feedback_texts.refusal(error, clock.now()))
        return
    communities = await uow.memberships.communities_of(person.id)
    if not communities:
        await message.answer(texts.no_community())
    elif len(communities) == 1:
        await message.answer(
            await _submit(uow, feedback_notices, communities[0], person.id, item, clock)
        )
    else:
        nonce = new_nonce()
        stored = {"nonce": nonce, "text": item.text, "photo": item.photo, "id": item.message_id}
        await state.update_data({DRAFT: stored})
        await message.answer(
            texts.choose_community(), reply_markup=community_choice(communities, nonce)
        )


async def community_chosen(
    query: CallbackQuery,
    callback_data: FeedbackFor,
    uow: UnitOfWork,
    feedback_notices: FeedbackNotices,
    state: FSMContext,
    clock: Clock,
) -> None:
    stored = (await state.get_data()).get(DRAFT)
    if not isinstance(stored, dict) or stored.get("nonce") != callback_data.nonce:
        await query.answer(texts.stale_button(), show_alert=True)  # old, replayed or forged
        return
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None:
        return
    await state.update_data({DRAFT: None})
    item = FeedbackDraft(text=stored["text"], photo=stored["photo"], message_id=stored["id"])
    text = await _submit(uow, feedback_notices, community, query.from_user.id, item, clock)
    await query.answer()
    await replace_message(query, text, None)


async def _submit(
    uow: UnitOfWork,
    feedback_notices: FeedbackNotices,
    community: CommunityProfile,
    member_id: int,
    item: FeedbackDraft,
    clock: Clock,
) -> str:
    try:
        submitted = await feedback.submit(
            uow,
            feedback_notices,
            community=community,
            member_id=member_id,
            draft=item,
            now=clock.now(),
        )
    except _MEMBER_REFUSALS as error:
        return feedback_texts.refusal(error, clock.now())
    if submitted.replayed:
        return feedback_texts.sent_already(community.title)
    return feedback_texts.sent(community.title)


# -- operators


async def _operated(
    bot: Bot, uow: UnitOfWork, operators: OperatorDirectory, user_id: int
) -> set[int]:
    return {community.id for community in await operators.operated(bot, uow, user_id)}


async def show_inbox(
    message: Message, bot: Bot, uow: UnitOfWork, operators: OperatorDirectory
) -> None:
    community = await community_or_picker(message, bot, uow, operators, picker_button(ACTION))
    if community is not None:
        page = await feedback.inbox(uow, community)
        await message.answer(feedback_texts.inbox(page), reply_markup=inbox_buttons(page))


async def inbox_of(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
) -> None:
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    community, picker = chosen
    page = await feedback.inbox(uow, community)
    await query.answer()
    await picker.answer(feedback_texts.inbox(page), reply_markup=inbox_buttons(page))


async def turn_page(
    query: CallbackQuery,
    callback_data: InboxPage,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
) -> None:
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    page = await feedback.inbox(uow, chosen[0], callback_data.page)
    await query.answer()
    await replace_message(query, feedback_texts.inbox(page), inbox_buttons(page))


async def act(
    query: CallbackQuery,
    callback_data: FeedbackAct,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
) -> None:
    actor_id = query.from_user.id
    operated = await _operated(bot, uow, operators, actor_id)
    now = clock.now()
    try:
        if callback_data.action is ItemAction.CLOSE:
            item = await feedback.close(
                uow, callback_data.item_id, actor_id=actor_id, operated=operated, now=now
            )
        elif callback_data.action is ItemAction.REPLY:
            item = await feedback.open_item(uow, callback_data.item_id, operated)
        else:
            item = await feedback.item_for(uow, callback_data.item_id, operated)
    except _OPERATOR_REFUSALS as error:
        await query.answer(feedback_texts.refusal(error, now), show_alert=True)
        return
    if not isinstance(query.message, Message):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    if callback_data.action is ItemAction.CLOSE:
        await query.answer(feedback_texts.closed(item))
        community = await uow.communities.get(item.community_id)
        if community is not None:
            page = await feedback.inbox(uow, community)
            await replace_message(query, feedback_texts.inbox(page), inbox_buttons(page))
    elif callback_data.action is ItemAction.PHOTO and item.photo is not None:
        await query.answer()
        await query.message.answer_photo(item.photo, caption=feedback_texts.photo_caption(item))
    elif callback_data.action is ItemAction.REPLY:
        await query.answer()
        await state.clear()
        await state.set_state(FeedbackDialog.replying)
        await state.update_data({REPLYING: item.id})
        await query.message.answer(feedback_texts.reply_prompt(item))
    else:
        await query.answer(texts.stale_button(), show_alert=True)


async def reply_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    feedback_notices: FeedbackNotices,
    clock: Clock,
) -> None:
    match = _REPLY.fullmatch((command.args or "").strip())
    if match is None:
        raise InvalidArgument(feedback_texts.reply_usage())
    assert message.from_user is not None
    await message.answer(
        await _reply(
            bot,
            uow,
            operators,
            feedback_notices,
            clock,
            message.from_user.id,
            int(match.group(1)),
            match.group(2),
        )
    )


async def take_reply(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    feedback_notices: FeedbackNotices,
    state: FSMContext,
    clock: Clock,
) -> None:
    if message.text is None:  # a photo or a sticker: the dialog waits for words
        await message.answer(feedback_texts.refusal(EmptyFeedback(), clock.now()))
        return
    item_id = (await state.get_data()).get(REPLYING)
    await state.clear()
    if not isinstance(item_id, int) or message.from_user is None:
        await message.answer(texts.stale_button())
        return
    await message.answer(
        await _reply(
            bot,
            uow,
            operators,
            feedback_notices,
            clock,
            message.from_user.id,
            item_id,
            message.text,
        )
    )


async def cancel_reply(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(feedback_texts.reply_cancelled())


async def _reply(
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    feedback_notices: FeedbackNotices,
    clock: Clock,
    actor_id: int,
    item_id: int,
    words: str,
) -> str:
    operated = await _operated(bot, uow, operators, actor_id)
    try:
        item = await feedback.reply(
            uow,
            feedback_notices,
            item_id,
            words,
            actor_id=actor_id,
            operated=operated,
            now=clock.now(),
        )
    except _OPERATOR_REFUSALS as error:
        return feedback_texts.refusal(error, clock.now())
    return feedback_texts.replied(item)
