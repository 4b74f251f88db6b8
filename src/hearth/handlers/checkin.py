"""/checkin, the daily reminder's button, /checkins and /reminder.

In a group a check-in is acknowledged with a reaction (no message from the group's
budget); the details go to the member in private, or — only on a member's very first
check-in, when they cannot be written to — in one group reply with a link to start the bot.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message, Update

from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, MemberProfile, Person
from hearth.handlers import texts
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.filters import InGroup, InPrivate
from hearth.handlers.personal import (
    Acknowledger,
    can_write_privately,
    chosen_community,
    only_community,
    start_link_markup,
)
from hearth.services import checkin, members
from hearth.services.checkin import CheckedInToday, CheckinResult
from hearth.services.points import rules_of
from hearth.services.ports import Clock, ReferralNotices, UnitOfWork

CELEBRATED_FROM = 7  # streaks this long are congratulated in the group


def build() -> Router:
    router = Router(name="checkin")
    router.message.register(check_in_group, Command("checkin"), InGroup())
    router.message.register(check_in_private, Command("checkin"), InPrivate())
    router.callback_query.register(check_in_chosen, CommunityChoice.filter(F.action == "checkin"))
    router.message.register(board, Command("checkins"), InGroup())
    router.message.register(board_in_private, Command("checkins"), InPrivate())
    router.message.register(reminder, Command("reminder"))
    return router


async def check_in_group(
    message: Message,
    event_update: Update,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    acks: Acknowledger,
    clock: Clock,
    referral_notices: ReferralNotices | None = None,
) -> None:
    if community is None or person is None or message.sender_chat is not None:
        return
    try:
        result = await checkin.check_in_member(
            uow,
            community=community,
            member_id=person.id,
            now=clock.now(),
            rules=rules_of(community),
            update_id=event_update.update_id,
            referral_notices=referral_notices,
        )
    except CheckedInToday as already:
        acks.react(message.chat.id, message.message_id, "👌")
        if can_write_privately(member):
            acks.tell(person.id, texts.already_checked_in(already.streak, already.next_in))
        return
    # The reaction and the private details go out after the update, within Telegram's limits.
    acks.react(message.chat.id, message.message_id, "🔥")
    if can_write_privately(member):
        acks.tell(person.id, texts.checkin_done(result))
    elif result.outcome.first_ever:
        await message.reply(
            texts.checked_in_in_group(person.display_name),
            reply_markup=await start_link_markup(bot, community),
        )
    if _celebrated(result) and community.announce_milestones:
        await bot.send_message(
            community.id,
            texts.streak_celebration(person.display_name, result.outcome.streak),
            disable_notification=True,
        )


def _celebrated(result: CheckinResult) -> bool:
    milestone = result.outcome.milestone
    return milestone is not None and milestone >= CELEBRATED_FROM


async def check_in_private(
    message: Message,
    event_update: Update,
    person: Person | None,
    uow: UnitOfWork,
    clock: Clock,
    referral_notices: ReferralNotices | None = None,
) -> None:
    if person is None:
        return
    community = await only_community(message, uow, person.id, "checkin")
    if community is not None:
        await message.answer(
            await _check_in_text(
                uow, community, person.id, clock, event_update.update_id, referral_notices
            )
        )


async def _check_in_text(
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    clock: Clock,
    update_id: int | None,
    referral_notices: ReferralNotices | None,
) -> str:
    try:
        result = await checkin.check_in_member(
            uow,
            community=community,
            member_id=member_id,
            now=clock.now(),
            rules=rules_of(community),
            update_id=update_id,
            referral_notices=referral_notices,
        )
    except CheckedInToday as already:
        return texts.already_checked_in(already.streak, already.next_in)
    return texts.checkin_done(result)


async def check_in_chosen(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    event_update: Update,
    uow: UnitOfWork,
    clock: Clock,
    referral_notices: ReferralNotices | None = None,
) -> None:
    """The button of a community picker or of the daily reminder."""
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None:
        return
    text = await _check_in_text(
        uow, community, query.from_user.id, clock, event_update.update_id, referral_notices
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text)


async def board(
    message: Message, community: CommunityProfile | None, uow: UnitOfWork, clock: Clock
) -> None:
    if community is None:
        return
    await message.answer(texts.day_board(await checkin.day_board(uow, community, clock.now())))


async def board_in_private(message: Message) -> None:
    await message.answer(texts.group_only("checkins"))


async def reminder(
    message: Message, command: CommandObject, person: Person | None, uow: UnitOfWork
) -> None:
    if person is None:
        return
    argument = (command.args or "").strip().lower()
    if argument == "off":
        hour = None
    elif argument.isascii() and argument.isdigit() and 0 <= int(argument) <= 23:
        hour = int(argument)
    else:
        raise InvalidArgument(texts.reminder_usage())
    communities = await members.set_checkin_reminder(uow, member_id=person.id, hour=hour)
    if not communities:
        await message.answer(texts.no_community())
        return
    await message.answer(texts.reminder_set(hour) if hour is not None else texts.reminder_off())
