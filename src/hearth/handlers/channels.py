"""Channels (dealers, stores, partners) and their invite links.

Operators: ``/channel_new NAME``, ``/channels``, ``/channel N``, ``/channel_rename N NAME``,
``/channel_archive N``, ``/channel_contact N @user|id|off`` (or in reply to the person's
message), and ``/stats channels [days]`` (``handlers/operators.py`` passes it on). In the
group they are about its community; in private, ``/channel_new`` and ``/channels`` are about
the community picked last (a picker asks when there are several), and a channel's number
names its community. The contact person of a channel reads its figures with
``/my_channel [days]`` in private: a member command, refused to everybody else, and no
operator right.
"""

from __future__ import annotations

import re

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from hearth.domain.channels import (
    DEFAULT_DAYS,
    Channel,
    ChannelExists,
    InvalidChannelName,
    NotAChannelContact,
    UnknownChannel,
    UnknownContact,
    parse_channel_name,
    period_days,
)
from hearth.domain.deep_links import channel_payload, start_link
from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, Person
from hearth.handlers import channels_texts as words
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.people import member_reference
from hearth.handlers.private_answers import answer_picked_report, answer_report
from hearth.handlers.qr_codes import link_qr
from hearth.handlers.remembered_community import RememberedCommunity
from hearth.handlers.replies import redirect
from hearth.services import channels
from hearth.services.ports import Clock, UnitOfWork

SUBCOMMAND = "channels"  # /stats channels
LIST_ACTION = "channels"  # picker buttons: the channels of the community picked
NEW_ACTION = "channel_new"  # … and the channel waiting in the operator's state goes there
STATS_ACTION = "chstats_"  # /stats channels picker buttons: "chstats_<days>"
PENDING = "channel_new_name"  # the FSM data key of a /channel_new waiting for the picker
_PICKED = RememberedCommunity(action=LIST_ACTION, key="channels_community")
_PICKED_FOR_NEW = RememberedCommunity(action=NEW_ACTION, key="channels_community")
_NUMBER = re.compile(r"#?(\d{1,18})(?:\s+(.*))?", re.ASCII | re.DOTALL)
_CHANNEL_REFUSALS = (UnknownChannel, ChannelExists, UnknownContact)


def build() -> Router:
    router = Router(name="channels")
    # Operators; non-operators' commands fall through to the fallback's refusal.
    router.message.register(new_channel, Command("channel_new"), IsOperator())
    router.message.register(show_channels, Command("channels"), IsOperator())
    router.message.register(show_channel, Command("channel"), IsOperator())
    router.message.register(rename, Command("channel_rename"), IsOperator())
    router.message.register(archive, Command("channel_archive"), IsOperator())
    router.message.register(set_contact, Command("channel_contact"), IsOperator())
    picked = CommunityChoice.filter(F.action.in_({LIST_ACTION, NEW_ACTION}))
    router.callback_query.register(community_picked, picked, InPrivate(), IsOperator())
    router.callback_query.register(refuse_non_operator_button, picked)
    for_stats = CommunityChoice.filter(F.action.startswith(STATS_ACTION))
    router.callback_query.register(stats_picked, for_stats, InPrivate(), IsOperator())
    router.callback_query.register(refuse_non_operator_button, for_stats)
    # The contact person's view: whoever sends it; the service checks who they are.
    router.message.register(my_channel, Command("my_channel"), InPrivate())
    router.message.register(
        redirect(lambda _command: words.my_channel_in_private()), Command("my_channel"), InGroup()
    )
    return router


# -- parsing


def _number(arguments: str | None, usage: str) -> tuple[int, str]:
    """The channel's number and the rest of the arguments."""
    match = _NUMBER.fullmatch((arguments or "").strip())
    if match is None:
        raise InvalidArgument(usage)
    return int(match.group(1)), (match.group(2) or "").strip()


def _number_alone(arguments: str | None, usage: str) -> int:
    """The channel's number, when nothing follows it."""
    channel_id, rest = _number(arguments, usage)
    if rest:
        raise InvalidArgument(usage)
    return channel_id


def _contact_reference(message: Message, rest: str) -> str | None:
    """ "@username" or an id; the author of the message replied to; None for "off"."""
    if rest.lower() == "off":
        return None
    return member_reference(message, rest, words.contact_usage())


async def _operated(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
) -> set[int]:
    """The communities a command may touch: the group's in the group, else all operated."""
    if community is not None:
        return {community.id}
    assert message.from_user is not None
    return {each.id for each in await operators.operated(bot, uow, message.from_user.id)}


async def _link(bot: Bot, channel: Channel) -> str:
    me = await bot.me()
    return start_link(me.username or "", channel_payload(channel.community_id, channel.id))


async def _send_qr(target: Message, channel: Channel, link: str) -> None:
    await target.answer_photo(
        BufferedInputFile(link_qr(link), filename=f"channel-{channel.id}.png"),
        caption=words.qr_caption(channel),
    )


# -- creating and listing


async def new_channel(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
) -> None:
    try:
        name = parse_channel_name(command.args)  # refused before anything else
    except InvalidChannelName:
        raise InvalidArgument(words.new_usage()) from None
    if person is None:
        return
    where = community or await _PICKED_FOR_NEW.recall(
        message, bot, uow, operators, state, person.id
    )
    if where is None:  # a picker (or a hint) was shown: its button finishes the command
        await state.update_data({PENDING: name})
        return
    await _create(message, bot, uow, where, name, person.id, clock)


async def _create(
    target: Message,
    bot: Bot,
    uow: UnitOfWork,
    community: CommunityProfile,
    name: str,
    actor_id: int,
    clock: Clock,
) -> None:
    try:
        channel = await channels.create(
            uow, community=community, name=name, actor_id=actor_id, now=clock.now()
        )
    except ChannelExists as error:
        await target.answer(words.refusal(error))
        return
    link = await _link(bot, channel)
    await target.answer(words.created(channel, community.title, link))
    await _send_qr(target, channel, link)


async def show_channels(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
) -> None:
    if person is None:
        return
    where = community or await _PICKED.recall(message, bot, uow, operators, state, person.id)
    if where is not None:
        await _list(message, bot, uow, where, clock)


async def _list(
    target: Message, bot: Bot, uow: UnitOfWork, community: CommunityProfile, clock: Clock
) -> None:
    report = await channels.recent(uow, community, days=DEFAULT_DAYS, now=clock.now())
    links = {
        each.channel.id: await _link(bot, each.channel)
        for each in report.channels
        if each.channel is not None
    }
    for text in words.listing(report, links):
        await target.answer(text)


async def community_picked(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
) -> None:
    creating = callback_data.action == NEW_ACTION
    picker = _PICKED_FOR_NEW if creating else _PICKED
    community = await picker.remember(query, bot, uow, operators, state, callback_data.community_id)
    if community is None or not isinstance(query.message, Message):
        return
    await query.answer()
    pending = (await state.get_data()).get(PENDING) if creating else None
    if not isinstance(pending, str):
        await _list(query.message, bot, uow, community, clock)
        return
    await state.update_data({PENDING: None})
    try:
        name = parse_channel_name(pending)
    except InvalidChannelName:
        raise InvalidArgument(words.new_usage()) from None
    await _create(query.message, bot, uow, community, name, query.from_user.id, clock)


# -- one channel


async def show_channel(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    channel_id = _number_alone(command.args, words.number_usage("channel"))
    try:
        shown = await channels.card(
            uow,
            channel_id,
            operated=await _operated(message, bot, community, uow, operators),
            days=DEFAULT_DAYS,
            now=clock.now(),
        )
    except UnknownChannel as error:
        await message.answer(words.refusal(error))
        return
    link = await _link(bot, shown.channel)
    await message.answer(words.channel_card(shown, link))
    if not shown.channel.archived:
        await _send_qr(message, shown.channel, link)


async def rename(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    channel_id, rest = _number(command.args, words.rename_usage())
    try:
        name = parse_channel_name(rest)
    except InvalidChannelName:
        raise InvalidArgument(words.rename_usage()) from None
    assert message.from_user is not None
    operated = await _operated(message, bot, community, uow, operators)
    try:
        old = (await channels.find(uow, channel_id, operated)).name
        channel = await channels.rename(
            uow,
            channel_id,
            name,
            operated=operated,
            actor_id=message.from_user.id,
            now=clock.now(),
        )
    except _CHANNEL_REFUSALS as error:
        await message.answer(words.refusal(error))
        return
    await message.answer(words.renamed(old, channel))


async def archive(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    channel_id = _number_alone(command.args, words.number_usage("channel_archive"))
    assert message.from_user is not None
    try:
        channel, changed = await channels.archive(
            uow,
            channel_id,
            operated=await _operated(message, bot, community, uow, operators),
            actor_id=message.from_user.id,
            now=clock.now(),
        )
    except UnknownChannel as error:
        await message.answer(words.refusal(error))
        return
    await message.answer(words.archived(channel, changed))


async def set_contact(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    channel_id, rest = _number(command.args, words.contact_usage())
    reference = _contact_reference(message, rest)
    assert message.from_user is not None
    try:
        channel, contact = await channels.set_contact(
            uow,
            channel_id,
            reference,
            operated=await _operated(message, bot, community, uow, operators),
            actor_id=message.from_user.id,
            now=clock.now(),
        )
    except _CHANNEL_REFUSALS as error:
        await message.answer(words.refusal(error))
        return
    await message.answer(
        words.contact_changed(channel, contact.first_name if contact is not None else None)
    )


# -- figures


async def stats_by_channel(
    message: Message,
    period: str,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    """/stats channels [days]: the community's figures by channel (``period``: the words
    after "channels")."""
    days = _stats_days(period)
    await answer_report(
        message,
        bot,
        community,
        uow,
        operators,
        f"{STATS_ACTION}{days}",
        lambda where: _stats(uow, where, days, clock),
    )


async def stats_picked(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    days = _stats_days(callback_data.action.removeprefix(STATS_ACTION))
    await answer_picked_report(
        query,
        bot,
        uow,
        operators,
        callback_data.community_id,
        lambda community: _stats(uow, community, days, clock),
    )


def _stats_days(period: str) -> int:
    days = period_days(period)
    if days is None:
        raise InvalidArgument(words.stats_usage())
    return days


async def _stats(
    uow: UnitOfWork, community: CommunityProfile, days: int, clock: Clock
) -> list[str]:
    return words.stats(await channels.recent(uow, community, days=days, now=clock.now()))


async def my_channel(
    message: Message,
    command: CommandObject,
    person: Person | None,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    if person is None:
        return
    days = period_days(command.args)
    if days is None:
        raise InvalidArgument(words.my_channel_usage())
    try:  # who is a contact is read now, from the channels: a change applies at once
        views = await channels.contact_view(uow, person.id, days=days, now=clock.now())
    except NotAChannelContact as error:
        await message.answer(words.refusal(error))
        return
    for text in words.my_channel(views):
        await message.answer(text)
