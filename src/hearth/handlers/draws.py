"""Lucky draws: /draws, /draw N and the Enter button for members; /draw_new (in the group,
or in private with a community picker) and /draw_cancel for operators. The repository
arrives as the handler argument ``draws``, the outbox adapter as ``draw_notices``.
"""

from __future__ import annotations

import re

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from hearth.domain.draws import (
    AlreadyEntered,
    DrawDraft,
    DrawSettled,
    DrawUnavailable,
    InvalidDrawSpec,
    UnknownDraw,
    parse_draw_command,
)
from hearth.domain.errors import InvalidArgument, NotAnOperator
from hearth.domain.members import CommunityProfile, MemberProfile, Person
from hearth.domain.points import DEFAULT_TIERS, NotEnoughPoints
from hearth.handlers import draws_texts, keyboards, texts
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.draws_callbacks import DrawEnter, NewDrawFor, enter_buttons, new_draw_picker
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import Acknowledger, answer_personally
from hearth.handlers.replies import replace_message
from hearth.handlers.repositories import refusal, repository
from hearth.handlers.rewards_callbacks import new_nonce
from hearth.services import draws as lucky
from hearth.services.directory import Directory
from hearth.services.ports import Clock, DrawNotices, DrawsRepository, UnitOfWork

ACTION = "draws"  # the community picker's buttons for /draws
DRAFT = "draw_new"  # the FSM data key of a /draw_new waiting for its community
_NUMBER = re.compile(r"#?(\d{1,18})")
# Refusals of a member's entry. An entry may have written before it was refused.
_MEMBER_REFUSALS = (DrawUnavailable, AlreadyEntered, NotEnoughPoints)
_OPERATOR_REFUSALS = (UnknownDraw, DrawSettled)


def build() -> Router:
    """The draws' router; its handlers get the update's ``draws`` repository."""
    router = Router(name="draws")
    router.message.middleware(repository("draws"))
    router.callback_query.middleware(repository("draws"))
    router.message.register(show_draws, Command("draws"))
    router.callback_query.register(draws_of, CommunityChoice.filter(F.action == ACTION))
    router.message.register(show_draw, Command("draw"))
    router.callback_query.register(enter, DrawEnter.filter())
    # Operators; non-operators' commands fall through to the fallback's refusal.
    router.message.register(new_draw_here, Command("draw_new"), InGroup(), IsOperator())
    router.message.register(new_draw, Command("draw_new"), InPrivate(), IsOperator())
    router.callback_query.register(new_draw_for, NewDrawFor.filter(), IsOperator())
    router.callback_query.register(refuse_non_operator_button, NewDrawFor.filter())
    router.message.register(cancel, Command("draw_cancel"), IsOperator())
    return router


_refused = refusal(draws_texts.refusal)


def _number(arguments: str | None, usage: str) -> int:
    match = _NUMBER.fullmatch((arguments or "").strip())
    if match is None:
        raise InvalidArgument(usage)
    return int(match.group(1))


async def _operated_ids(
    bot: Bot, uow: UnitOfWork, operators: OperatorDirectory, user: int
) -> set[int]:
    return {community.id for community in await operators.operated(bot, uow, user)}


# -- members


async def _board(
    uow: UnitOfWork, draws: DrawsRepository, community: CommunityProfile, member_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    listing = await lucky.open_draws(uow, draws, community=community, member_id=member_id)
    return draws_texts.board(listing), enter_buttons(listing.enterable)


async def _communities(
    bot: Bot, uow: UnitOfWork, operators: OperatorDirectory, person_id: int
) -> list[CommunityProfile]:
    """The communities a person belongs to, then those they operate without belonging."""
    found = await uow.memberships.communities_of(person_id)
    known = {community.id for community in found}
    operated = await operators.operated(bot, uow, person_id)
    return found + [community for community in operated if community.id not in known]


async def show_draws(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    draws: DrawsRepository,
    operators: OperatorDirectory,
    directory: Directory,
    acks: Acknowledger,
) -> None:
    if person is None:
        return
    if community is not None:  # in the group: the answer goes in private when it can
        text, markup = await _board(uow, draws, community, person.id)
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
    choices = await _communities(bot, uow, operators, person.id)
    if len(choices) == 1:
        text, markup = await _board(uow, draws, choices[0], person.id)
        await message.answer(text, reply_markup=markup)
    elif choices:
        await message.answer(
            texts.choose_community(), reply_markup=keyboards.community_actions(choices, ACTION)
        )
    else:
        await message.answer(texts.no_community())


async def draws_of(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    draws: DrawsRepository,
    operators: OperatorDirectory,
) -> None:
    # Checked again: the button may be old or forged.
    choices = await _communities(bot, uow, operators, query.from_user.id)
    chosen = next((each for each in choices if each.id == callback_data.community_id), None)
    if chosen is None or not isinstance(query.message, Message):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    text, markup = await _board(uow, draws, chosen, query.from_user.id)
    await query.answer()
    await query.message.answer(text, reply_markup=markup)


async def show_draw(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    draws: DrawsRepository,
    operators: OperatorDirectory,
    directory: Directory,
    acks: Acknowledger,
) -> None:
    if person is None:
        return
    draw_id = _number(command.args, draws_texts.draw_usage())
    try:
        shown = await lucky.view(
            uow,
            draws,
            draw_id,
            viewer_id=person.id,
            operated=await _operated_ids(bot, uow, operators, person.id),
        )
    except UnknownDraw as error:
        await message.answer(draws_texts.refusal(error))
        return
    await answer_personally(
        message,
        draws_texts.view(shown),
        bot=bot,
        member=member,
        community=community,
        uow=uow,
        directory=directory,
        acks=acks,
    )


async def enter(
    query: CallbackQuery,
    callback_data: DrawEnter,
    uow: UnitOfWork,
    draws: DrawsRepository,
    clock: Clock,
) -> None:
    try:
        result = await lucky.enter(
            uow,
            draws,
            draw_id=callback_data.draw_id,
            member_id=query.from_user.id,
            now=clock.now(),
        )
    except _MEMBER_REFUSALS as error:
        await query.answer(await _refused(uow, error), show_alert=True)
        return
    await query.answer(draws_texts.entered(result), show_alert=True)


# -- operators


def _draft(arguments: str | None) -> DrawDraft:
    try:
        return parse_draw_command(arguments, tier_names={tier.name for tier in DEFAULT_TIERS})
    except InvalidDrawSpec as error:
        raise InvalidArgument(draws_texts.invalid_draw(error)) from None


async def _create(
    uow: UnitOfWork,
    draws: DrawsRepository,
    notices: DrawNotices,
    community: CommunityProfile,
    draft: DrawDraft,
    actor_id: int,
    clock: Clock,
) -> str:
    try:
        draw = await lucky.create_draw(
            uow,
            draws,
            notices,
            community=community,
            draft=draft,
            actor_id=actor_id,
            now=clock.now(),
        )
    except InvalidDrawSpec as error:
        raise InvalidArgument(draws_texts.invalid_draw(error)) from None
    return draws_texts.created(draw, community)


async def new_draw_here(
    message: Message,
    command: CommandObject,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    draws: DrawsRepository,
    draw_notices: DrawNotices,
    clock: Clock,
) -> None:
    draft = _draft(command.args)
    assert message.from_user is not None
    if community is None:
        return
    await message.reply(
        await _create(uow, draws, draw_notices, community, draft, message.from_user.id, clock)
    )


async def new_draw(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    draws: DrawsRepository,
    draw_notices: DrawNotices,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
) -> None:
    draft = _draft(command.args)  # refused before anything else when it does not parse
    assert message.from_user is not None
    operated = await operators.operated(bot, uow, message.from_user.id)
    if not operated:
        await message.answer(texts.no_communities())
    elif len(operated) == 1:
        await message.answer(
            await _create(uow, draws, draw_notices, operated[0], draft, message.from_user.id, clock)
        )
    else:
        nonce = new_nonce()
        await state.update_data({DRAFT: {"nonce": nonce, "arguments": command.args}})
        await message.answer(
            texts.choose_community(), reply_markup=new_draw_picker(operated, nonce)
        )


async def new_draw_for(
    query: CallbackQuery,
    callback_data: NewDrawFor,
    bot: Bot,
    uow: UnitOfWork,
    draws: DrawsRepository,
    draw_notices: DrawNotices,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
) -> None:
    stored = (await state.get_data()).get(DRAFT)
    if not isinstance(stored, dict) or stored.get("nonce") != callback_data.nonce:
        await query.answer(texts.stale_button(), show_alert=True)  # old, replayed or forged
        return
    # Checked again for this very community: the button may be old or forged.
    if not await operators.is_operator(bot, callback_data.community_id, query.from_user.id):
        raise NotAnOperator()
    community = await uow.communities.get(callback_data.community_id)
    if community is None:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    await state.update_data({DRAFT: None})
    draft = _draft(stored.get("arguments"))
    text = await _create(uow, draws, draw_notices, community, draft, query.from_user.id, clock)
    await query.answer()
    await replace_message(query, text, None)


async def cancel(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    draws: DrawsRepository,
    draw_notices: DrawNotices,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    draw_id = _number(command.args, draws_texts.cancel_usage())
    assert message.from_user is not None
    try:
        result = await lucky.cancel_draw(
            uow,
            draws,
            draw_notices,
            draw_id,
            actor_id=message.from_user.id,
            operated=await _operated_ids(bot, uow, operators, message.from_user.id),
            now=clock.now(),
        )
    except _OPERATOR_REFUSALS as error:
        await message.answer(await _refused(uow, error))
        return
    await message.answer(draws_texts.cancelled(result))
