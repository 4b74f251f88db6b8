"""The rewards store: /rewards and redeeming for members; rewards, codes and redemptions for
operators. The repository arrives as the handler argument ``rewards`` (injected per update).
"""

from __future__ import annotations

import re

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from hearth.domain.errors import InvalidArgument, NotAnOperator
from hearth.domain.members import CommunityProfile, MemberProfile, Person
from hearth.domain.points import DEFAULT_TIERS, NotEnoughPoints
from hearth.domain.rewards import (
    InvalidRewardSpec,
    OutOfStock,
    RedemptionClosed,
    RedemptionLimitReached,
    RewardDraft,
    RewardUnavailable,
    UnknownRedemption,
    UnknownReward,
    decode_code_file,
    parse_reward_command,
)
from hearth.handlers import rewards_texts, texts
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.documents import document_bytes
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import (
    Acknowledger,
    answer_personally,
    can_write_privately,
    chosen_community,
    only_community,
    start_link_markup,
)
from hearth.handlers.replies import redirect, replace_message
from hearth.handlers.repositories import refusal, repository
from hearth.handlers.rewards_callbacks import (
    NewRewardFor,
    RedeemConfirm,
    RedeemKeep,
    RewardPick,
    Settlement,
    SettleRedemption,
    confirm_or_keep,
    confirmation,
    is_genuine,
    new_nonce,
    new_reward_picker,
    redemption_key,
    reward_buttons,
    settle_buttons,
)
from hearth.services import rewards as store
from hearth.services.directory import Directory
from hearth.services.points import rules_of
from hearth.services.ports import Clock, RedemptionNotices, RewardsRepository, UnitOfWork

OPERATOR_COMMANDS = ("reward_new", "reward_archive", "redemptions", "codes")
MAX_CODE_FILE = 1024 * 1024  # bytes; 10,000 codes of 64 characters fit comfortably
_NUMBER = re.compile(r"#?(\d{1,18})")
# Refusals of a member's request. A redemption may have written before it was refused.
_MEMBER_REFUSALS = (OutOfStock, RedemptionLimitReached, RewardUnavailable, NotEnoughPoints)
_OPERATOR_REFUSALS = (UnknownReward, UnknownRedemption, RedemptionClosed, RewardUnavailable)


def build() -> Router:
    """The rewards store's router; its handlers get the update's ``rewards`` repository."""
    router = Router(name="rewards")
    router.message.middleware(repository("rewards"))
    router.callback_query.middleware(repository("rewards"))
    router.message.register(rewards_in_group, Command("rewards"), InGroup())
    router.message.register(show_rewards, Command("rewards"), InPrivate())
    router.callback_query.register(rewards_of, CommunityChoice.filter(F.action == "rewards"))
    router.callback_query.register(ask_to_confirm, RewardPick.filter())
    router.callback_query.register(redeem, RedeemConfirm.filter())
    router.callback_query.register(keep_points, RedeemKeep.filter())
    # Operators: in private only; the operator check runs after the command matched.
    router.message.register(send_in_private, Command(*OPERATOR_COMMANDS), InGroup(), IsOperator())
    router.message.register(new_reward, Command("reward_new"), InPrivate(), IsOperator())
    router.callback_query.register(new_reward_for, NewRewardFor.filter(), IsOperator())
    router.message.register(archive, Command("reward_archive"), InPrivate(), IsOperator())
    router.message.register(show_redemptions, Command("redemptions"), InPrivate(), IsOperator())
    router.callback_query.register(settle, SettleRedemption.filter(), IsOperator())
    router.message.register(import_codes, Command("codes"), F.document, InPrivate(), IsOperator())
    router.message.register(codes_without_file, Command("codes"), InPrivate(), IsOperator())
    # Whoever reaches these is not an operator.
    router.message.register(refuse_non_operator, Command(*OPERATOR_COMMANDS))
    router.callback_query.register(refuse_non_operator_button, NewRewardFor.filter())
    router.callback_query.register(refuse_non_operator_button, SettleRedemption.filter())
    return router


_refused = refusal(rewards_texts.refusal)


async def _close(query: CallbackQuery, text: str) -> None:
    """Answer a button by replacing the message it sits on (and its buttons) with ``text``."""
    await query.answer()
    await replace_message(query, text, None)


# -- members


async def _shelf(
    uow: UnitOfWork,
    rewards: RewardsRepository,
    community: CommunityProfile,
    member_id: int,
    clock: Clock,
) -> tuple[str, InlineKeyboardMarkup | None]:
    shelf = await store.catalogue(
        uow,
        rewards,
        member_id=member_id,
        community=community,
        now=clock.now(),
        rules=rules_of(community),
    )
    return rewards_texts.catalogue(shelf), reward_buttons(shelf.redeemable)


async def rewards_in_group(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    rewards: RewardsRepository,
    directory: Directory,
    acks: Acknowledger,
    clock: Clock,
) -> None:
    if community is None or person is None:
        return
    if not can_write_privately(member):
        # One short reply: a group's message budget is not spent on a member's shopping.
        await message.reply(
            rewards_texts.open_in_private(), reply_markup=await start_link_markup(bot, community)
        )
        return
    text, markup = await _shelf(uow, rewards, community, person.id, clock)
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


async def show_rewards(
    message: Message,
    person: Person | None,
    uow: UnitOfWork,
    rewards: RewardsRepository,
    clock: Clock,
) -> None:
    if person is None:
        return
    community = await only_community(message, uow, person.id, "rewards")
    if community is not None:
        text, markup = await _shelf(uow, rewards, community, person.id, clock)
        await message.answer(text, reply_markup=markup)


async def rewards_of(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    uow: UnitOfWork,
    rewards: RewardsRepository,
    clock: Clock,
) -> None:
    member_id = query.from_user.id
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None:
        return
    text, markup = await _shelf(uow, rewards, community, member_id, clock)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


async def ask_to_confirm(
    query: CallbackQuery,
    callback_data: RewardPick,
    bot: Bot,
    uow: UnitOfWork,
    rewards: RewardsRepository,
    clock: Clock,
) -> None:
    member_id = query.from_user.id
    try:
        reward, balance = await store.offer(
            uow, rewards, reward_id=callback_data.reward_id, member_id=member_id, now=clock.now()
        )
    except _MEMBER_REFUSALS as error:
        await query.answer(await _refused(uow, error), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            rewards_texts.confirm(reward, balance),
            reply_markup=confirm_or_keep(confirmation(bot.token, member_id, reward.id)),
        )


async def redeem(
    query: CallbackQuery,
    callback_data: RedeemConfirm,
    bot: Bot,
    uow: UnitOfWork,
    rewards: RewardsRepository,
    clock: Clock,
) -> None:
    member_id = query.from_user.id
    if not is_genuine(callback_data, bot.token, member_id):
        await query.answer(texts.stale_button(), show_alert=True)  # forged, or another's
        return
    try:
        result = await store.redeem(
            uow,
            rewards,
            reward_id=callback_data.reward_id,
            member_id=member_id,
            key=redemption_key(member_id, callback_data),
            now=clock.now(),
        )
    except _MEMBER_REFUSALS as error:
        await _close(query, await _refused(uow, error))
        return
    await _close(query, rewards_texts.redeemed(result))


async def keep_points(query: CallbackQuery) -> None:
    await _close(query, rewards_texts.kept())


# -- operators


def _draft(arguments: str | None) -> RewardDraft:
    try:
        return parse_reward_command(arguments, tier_names={tier.name for tier in DEFAULT_TIERS})
    except InvalidRewardSpec as error:
        raise InvalidArgument(rewards_texts.invalid_reward(error)) from None


def _number(arguments: str | None, usage: str) -> int:
    match = _NUMBER.fullmatch((arguments or "").strip())
    if match is None:
        raise InvalidArgument(usage)
    return int(match.group(1))


send_in_private = redirect(rewards_texts.private_only)


async def new_reward(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    rewards: RewardsRepository,
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
            await _create(uow, rewards, operated[0], draft, message.from_user.id, clock)
        )
    else:
        nonce = new_nonce()
        await state.update_data(reward_new={"nonce": nonce, "arguments": command.args})
        await message.answer(
            texts.choose_community(), reply_markup=new_reward_picker(operated, nonce)
        )


async def new_reward_for(
    query: CallbackQuery,
    callback_data: NewRewardFor,
    bot: Bot,
    uow: UnitOfWork,
    rewards: RewardsRepository,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
) -> None:
    stored = (await state.get_data()).get("reward_new")
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
    await state.update_data(reward_new=None)
    draft = _draft(stored.get("arguments"))
    await _close(query, await _create(uow, rewards, community, draft, query.from_user.id, clock))


async def _create(
    uow: UnitOfWork,
    rewards: RewardsRepository,
    community: CommunityProfile,
    draft: RewardDraft,
    actor_id: int,
    clock: Clock,
) -> str:
    try:
        reward = await store.create_reward(
            uow, rewards, community=community, draft=draft, actor_id=actor_id, now=clock.now()
        )
    except InvalidRewardSpec as error:
        raise InvalidArgument(rewards_texts.invalid_reward(error)) from None
    return rewards_texts.reward_created(reward, community.title)


async def archive(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    rewards: RewardsRepository,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    reward_id = _number(command.args, rewards_texts.archive_usage())
    assert message.from_user is not None
    operated = await operators.operated(bot, uow, message.from_user.id)
    try:
        reward = await store.archive_reward(
            uow,
            rewards,
            reward_id,
            actor_id=message.from_user.id,
            operated={community.id for community in operated},
            now=clock.now(),
        )
    except _OPERATOR_REFUSALS as error:
        await message.answer(await _refused(uow, error))
        return
    await message.answer(rewards_texts.archived(reward))


async def _pending_page(
    rewards: RewardsRepository, operated: list[CommunityProfile]
) -> tuple[str, InlineKeyboardMarkup | None]:
    listing = await store.pending_redemptions(
        rewards, operated={community.id for community in operated}
    )
    timezones = {community.id: community.timezone for community in operated}
    return rewards_texts.pending(listing, timezones), settle_buttons(listing.lines)


async def show_redemptions(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    rewards: RewardsRepository,
    operators: OperatorDirectory,
) -> None:
    assert message.from_user is not None
    operated = await operators.operated(bot, uow, message.from_user.id)
    text, markup = await _pending_page(rewards, operated)
    await message.answer(text, reply_markup=markup)


async def settle(
    query: CallbackQuery,
    callback_data: SettleRedemption,
    bot: Bot,
    uow: UnitOfWork,
    rewards: RewardsRepository,
    operators: OperatorDirectory,
    redemption_notices: RedemptionNotices,
    clock: Clock,
) -> None:
    actor_id = query.from_user.id
    operated = await operators.operated(bot, uow, actor_id)
    settlement = store.fulfil if callback_data.action is Settlement.FULFIL else store.cancel
    try:
        redemption = await settlement(
            uow,
            rewards,
            redemption_notices,
            callback_data.redemption_id,
            actor_id=actor_id,
            operated={community.id for community in operated},
            now=clock.now(),
        )
    except _OPERATOR_REFUSALS as error:
        await query.answer(await _refused(uow, error), show_alert=True)
        return
    await query.answer(rewards_texts.settled(redemption.status, redemption.id, redemption.cost))
    await replace_message(query, *await _pending_page(rewards, operated))


async def import_codes(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    rewards: RewardsRepository,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    reward_id = _number(command.args, rewards_texts.codes_usage())
    assert message.document is not None
    assert message.from_user is not None
    content = await document_bytes(bot, message.document, MAX_CODE_FILE)
    if content is None:
        await message.answer(rewards_texts.codes_file_too_big(MAX_CODE_FILE // 1024))
        return
    operated = await operators.operated(bot, uow, message.from_user.id)
    try:
        report = await store.import_codes(
            uow,
            rewards,
            reward_id,
            decode_code_file(content),
            actor_id=message.from_user.id,
            operated={community.id for community in operated},
            now=clock.now(),
        )
    except _OPERATOR_REFUSALS as error:
        await message.answer(await _refused(uow, error))
        return
    await message.answer(rewards_texts.codes_imported(report))


async def codes_without_file(message: Message) -> None:
    await message.answer(rewards_texts.codes_usage())


async def refuse_non_operator(message: Message) -> None:
    await message.reply(texts.not_an_operator())


async def refuse_non_operator_button(query: CallbackQuery) -> None:
    await query.answer(texts.not_an_operator(), show_alert=True)
