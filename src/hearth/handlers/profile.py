"""/profile: a member's answers to the onboarding questionnaire, asked with buttons in private.

Offered once after /start (for a member who has not answered anything), walked through one
question at a time ("tour"), and shown again by /profile with a button per question to
change it. Every press is checked: the member must belong to the community the button
names, and the question and option must still be asked.
"""

from __future__ import annotations

import enum

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from hearth.domain.members import CommunityProfile, Person
from hearth.domain.profile import MAX_OPTIONS, NoSuchAnswer, ProfileQuestion
from hearth.handlers import profile_texts as words
from hearth.handlers import texts
from hearth.handlers.callbacks import CHAT_ID_LIMIT, CommunityChoice
from hearth.handlers.filters import InGroup, InPrivate
from hearth.handlers.personal import chosen_community, only_community, start_link_markup
from hearth.handlers.replies import replace_message
from hearth.services import profile
from hearth.services.ports import Clock, UnitOfWork
from hearth.services.profile import ProfileView

ACTION = "profile"  # the community picker's buttons


class ProfileStep(enum.StrEnum):
    """What a questionnaire button does (short values: they travel in callback data)."""

    ASK = "a"  # show a question (the first for no key)
    PICK = "p"  # answer with an option
    NEXT = "n"  # skip, or done with a question of several answers
    SHOW = "s"  # the answers so far
    STOP = "x"  # not now


class ProfileTap(CallbackData, prefix="pf1"):
    """A member pressed a button of the questionnaire; ``tour``: walking through it all."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    step: ProfileStep
    key: str = Field(default="", pattern=r"^[a-z0-9-]{0,12}$")
    option: int = Field(default=-1, ge=-1, lt=MAX_OPTIONS)
    tour: bool = False


def build() -> Router:
    router = Router(name="profile")
    router.message.register(show_profile, Command("profile"), InPrivate())
    router.message.register(profile_in_group, Command("profile"), InGroup())
    router.callback_query.register(profile_of, CommunityChoice.filter(F.action == ACTION))
    router.callback_query.register(tapped, ProfileTap.filter(), InPrivate())
    return router


async def offer(bot: Bot, uow: UnitOfWork, community: CommunityProfile, member_id: int) -> None:
    """After /start or a join: offer the questionnaire in private to a member who has not
    answered any of it."""
    if await profile.to_offer(uow, community, member_id) is None:
        return
    builder = InlineKeyboardBuilder()
    builder.button(
        text=words.fill_in_button(),
        callback_data=ProfileTap(community_id=community.id, step=ProfileStep.ASK, tour=True),
    )
    builder.button(
        text=words.not_now_button(),
        callback_data=ProfileTap(community_id=community.id, step=ProfileStep.STOP),
    )
    await bot.send_message(
        member_id,
        words.offer(community.title),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=builder.adjust(2).export()),
    )


async def show_profile(message: Message, person: Person | None, uow: UnitOfWork) -> None:
    if person is None:
        return
    community = await only_community(message, uow, person.id, ACTION)
    if community is not None:
        view = await profile.view(uow, community, person.id)
        await message.answer(words.summary(view), reply_markup=_summary_buttons(view))


async def profile_in_group(message: Message, bot: Bot, community: CommunityProfile | None) -> None:
    markup = await start_link_markup(bot, community) if community is not None else None
    await message.reply(words.profile_in_private(), reply_markup=markup)


async def profile_of(query: CallbackQuery, callback_data: CommunityChoice, uow: UnitOfWork) -> None:
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None:
        return
    view = await profile.view(uow, community, query.from_user.id)
    await query.answer()
    await replace_message(query, words.summary(view), _summary_buttons(view))


async def tapped(
    query: CallbackQuery,
    callback_data: ProfileTap,
    event_update: Update,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None:
        return
    step, key, tour = callback_data.step, callback_data.key, callback_data.tour
    if step is ProfileStep.STOP:
        await query.answer()
        await replace_message(query, words.not_now(), None)
        return
    if step is ProfileStep.PICK:
        try:
            view = await profile.answer(
                uow,
                community,
                query.from_user.id,
                key=key,
                position=callback_data.option,
                now=clock.now(),
                update_id=event_update.update_id,
            )
        except NoSuchAnswer:
            await query.answer(texts.stale_button(), show_alert=True)
            return
        answered = view.question(key)
        # A question of several answers stays up until Done; one answer moves on.
        following = answered if answered is not None and answered.multiple else None
        if following is None and tour:
            following = view.after(key)
        await _show(query, view, following, tour, finished=tour)
        return
    view = await profile.view(uow, community, query.from_user.id)
    if step is ProfileStep.ASK:
        asked = view.question(key) if key else view.after(None)
        await _show(query, view, asked, tour)
    elif step is ProfileStep.NEXT and tour:
        await _show(query, view, view.after(key), tour, finished=True)
    else:
        await _show(query, view, None, tour)


async def _show(
    query: CallbackQuery,
    view: ProfileView,
    asked: ProfileQuestion | None,
    tour: bool,
    *,
    finished: bool = False,
) -> None:
    """Replace the pressed message by the question ``asked``, or by the answers when None."""
    await query.answer()
    if asked is None:
        await replace_message(query, words.summary(view, finished=finished), _summary_buttons(view))
    else:
        await replace_message(
            query, words.question(view, asked), _question_buttons(view, asked, tour)
        )


def _question_buttons(
    view: ProfileView, asked: ProfileQuestion, tour: bool
) -> InlineKeyboardMarkup:
    """The options (ticked when chosen), then Done, Skip or Back."""
    community_id = view.community.id
    picked = {option.slug for option in view.chosen(asked.key)}
    builder = InlineKeyboardBuilder()
    for position, option in enumerate(asked.options):
        builder.button(
            text=words.option_button(option, option.slug in picked),
            callback_data=ProfileTap(
                community_id=community_id,
                step=ProfileStep.PICK,
                key=asked.key,
                option=position,
                tour=tour,
            ),
        )
    if asked.multiple:
        closing = words.done_button()
    else:
        closing = words.skip_button() if tour else words.back_button()
    builder.button(
        text=closing,
        callback_data=ProfileTap(
            community_id=community_id,
            step=ProfileStep.NEXT if tour else ProfileStep.SHOW,
            key=asked.key,
            tour=tour,
        ),
    )
    rows = [2] * (len(asked.options) // 2) + [1] * (len(asked.options) % 2) + [1]
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(*rows).export())


def _summary_buttons(view: ProfileView) -> InlineKeyboardMarkup | None:
    """Fill in (while nothing is answered), then one button per question to change it."""
    community_id = view.community.id
    builder = InlineKeyboardBuilder()
    if not view.answered and view.questions:
        builder.button(
            text=words.fill_in_button(),
            callback_data=ProfileTap(community_id=community_id, step=ProfileStep.ASK, tour=True),
        )
    for asked in view.questions:
        builder.button(
            text=words.change_button(asked),
            callback_data=ProfileTap(
                community_id=community_id, step=ProfileStep.ASK, key=asked.key
            ),
        )
    rows = builder.adjust(1).export()
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
