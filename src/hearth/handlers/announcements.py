"""Announcements: operators compose them in a short dialog in private (content → when →
audience → preview → confirm), list, pause, resume and delete them; members choose whether
they also get them in private (/announcements on|off, or the button under each copy).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from hearth.domain.announcements import AlreadyInThatState, Audience, UnknownAnnouncement
from hearth.domain.errors import NotAnOperator
from hearth.domain.members import CommunityProfile, Person
from hearth.domain.schedules import (
    InvalidSchedule,
    Schedule,
    parse_schedule,
    schedule_from_spec,
)
from hearth.handlers import announcements_texts as words
from hearth.handlers import texts
from hearth.handlers.announcements_keyboards import (
    AnnounceDecision,
    AnnounceFor,
    AudienceChoice,
    Manage,
    ManageAnnouncement,
    StopAnnouncements,
    audiences,
    community_picker,
    confirm_or_cancel,
    delete_or_keep,
    manage_buttons,
)
from hearth.handlers.fallback import refuse_non_operator, refuse_non_operator_button
from hearth.handlers.fallback import unknown_button as stale_button
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.replies import dialog_cancel, redirect, replace_message
from hearth.handlers.switches import on_or_off
from hearth.services import announcements
from hearth.services.announcements import Draft
from hearth.services.ports import AnnouncementTimetable, Announcer, Clock, UnitOfWork

OPERATOR_COMMANDS = ("announce", "announcements_list")
LISTED = 20  # announcements shown by /announcements_list
NOW_WORDS = frozenset({"now", "right now", "immediately", "现在", "立即", "马上", "立刻"})


class AnnounceFlow(StatesGroup):
    community = State()
    content = State()
    when = State()
    audience = State()
    confirm = State()


def build() -> Router:
    router = Router(name="announcements")
    # Members
    router.message.register(private_copies, Command("announcements"), InPrivate())
    router.message.register(in_private_only, Command("announcements"), InGroup())
    router.callback_query.register(stop_from, StopAnnouncements.filter())
    # Operators: the dialog, in private only
    router.message.register(send_in_private, Command(*OPERATOR_COMMANDS), InGroup(), IsOperator())
    router.message.register(cancel, Command("cancel"), StateFilter(AnnounceFlow), InPrivate())
    router.message.register(start, Command("announce"), InPrivate(), IsOperator())
    router.callback_query.register(
        chose_community, AnnounceFor.filter(), StateFilter(AnnounceFlow.community), IsOperator()
    )
    router.message.register(got_content, StateFilter(AnnounceFlow.content), InPrivate())
    router.message.register(got_when, StateFilter(AnnounceFlow.when), InPrivate())
    router.callback_query.register(
        chose_audience, AudienceChoice.filter(), StateFilter(AnnounceFlow.audience), IsOperator()
    )
    router.callback_query.register(
        decided, AnnounceDecision.filter(), StateFilter(AnnounceFlow.confirm), IsOperator()
    )
    router.message.register(show_list, Command("announcements_list"), InPrivate(), IsOperator())
    router.callback_query.register(manage, ManageAnnouncement.filter(), IsOperator())
    # Whoever reaches these is not an operator, or pressed a button of a finished dialog.
    router.message.register(refuse_non_operator, Command(*OPERATOR_COMMANDS))
    router.callback_query.register(refuse_non_operator_button, ManageAnnouncement.filter())
    for stale_kind in (AnnounceFor, AudienceChoice, AnnounceDecision):
        router.callback_query.register(stale_button, stale_kind.filter())
    return router


# -- the dialog


send_in_private = redirect(words.private_only)
cancel = dialog_cancel(words.cancelled)


async def start(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
) -> None:
    assert message.from_user is not None
    await state.clear()
    operated = await operators.operated(bot, uow, message.from_user.id)
    if not operated:
        await message.answer(texts.no_communities())
    elif len(operated) == 1:
        await _ask_content(message, state, operated[0])
    else:
        await state.set_state(AnnounceFlow.community)
        await message.answer(texts.choose_community(), reply_markup=community_picker(operated))


async def _ask_content(message: Message, state: FSMContext, community: CommunityProfile) -> None:
    await state.set_state(AnnounceFlow.content)
    await state.update_data(community_id=community.id)
    await message.answer(words.ask_content(community.title))


async def chose_community(
    query: CallbackQuery,
    callback_data: AnnounceFor,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
) -> None:
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    community, picker = chosen
    await query.answer()
    await replace_message(query, f"{texts.choose_community()} {texts.quote(community.title)}", None)
    await _ask_content(picker, state, community)


async def got_content(message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock) -> None:
    if (message.text or "").startswith("/"):
        raise SkipHandler()  # another command: let its handler answer it
    if message.photo:
        photo: str | None = message.photo[-1].file_id  # the largest size
        html = message.html_text if message.caption else ""
    elif message.text:
        photo, html = None, message.html_text
    else:
        await message.answer(words.content_needed())
        return
    community = await _dialog_community(state, uow)
    if community is None:
        await state.clear()
        await message.answer(texts.stale_button())
        return
    await state.update_data(html=html, photo=photo)
    await state.set_state(AnnounceFlow.when)
    await message.answer(words.ask_when(community.timezone, clock.now()))


async def _dialog_community(state: FSMContext, uow: UnitOfWork) -> CommunityProfile | None:
    community_id = (await state.get_data()).get("community_id")
    if not isinstance(community_id, int):
        return None
    return await uow.communities.get(community_id)


def _read_when(text: str, community: CommunityProfile, now: datetime) -> Schedule | None:
    """The schedule an operator wrote (None: now); ``InvalidSchedule`` when it will not do."""
    if " ".join(text.lower().split()) in NOW_WORDS:
        return None
    today = now.astimezone(ZoneInfo(community.timezone)).date()
    schedule = parse_schedule(text, today=today)
    announcements.check_schedule(schedule, community, now)
    return schedule


async def got_when(message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock) -> None:
    if (message.text or "").startswith("/"):
        raise SkipHandler()
    community = await _dialog_community(state, uow)
    if community is None:
        await state.clear()
        await message.answer(texts.stale_button())
        return
    try:
        schedule = _read_when(message.text or "", community, clock.now())
    except InvalidSchedule as error:
        await message.answer(words.invalid_schedule(error.problem, community.timezone))
        return
    await state.update_data(schedule="now" if schedule is None else schedule.spec())
    await state.set_state(AnnounceFlow.audience)
    await message.answer(words.ask_audience(), reply_markup=audiences())


async def chose_audience(
    query: CallbackQuery,
    callback_data: AudienceChoice,
    bot: Bot,
    state: FSMContext,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    community = await _dialog_community(state, uow)
    data = await state.get_data()
    if community is None or not isinstance(query.message, Message):
        await state.clear()
        await query.answer(texts.stale_button(), show_alert=True)
        return
    choice = callback_data.audience
    schedule = None if data["schedule"] == "now" else schedule_from_spec(data["schedule"])
    try:
        next_run = (
            announcements.check_schedule(schedule, community, clock.now()) if schedule else None
        )
    except InvalidSchedule as error:  # the moment passed while the operator chose
        await state.set_state(AnnounceFlow.when)
        await query.answer()
        await replace_message(
            query, words.invalid_schedule(error.problem, community.timezone), None
        )
        return
    await state.update_data(audience=choice.value)
    await state.set_state(AnnounceFlow.confirm)
    reachable = await announcements.private_reach(uow, community.id) if choice.private_copies else 0
    await query.answer()
    await replace_message(query, f"{words.ask_audience()} {words.audience(choice)}", None)
    chat_id = query.message.chat.id
    # The preview: exactly the message the group will get.
    if data.get("photo"):
        await bot.send_photo(chat_id, data["photo"], caption=data["html"])
    else:
        await bot.send_message(chat_id, data["html"])
    await bot.send_message(
        chat_id,
        words.preview_summary(
            title=community.title,
            plan=schedule,
            next_run=next_run,
            timezone=community.timezone,
            choice=choice,
            reachable=reachable,
        ),
        reply_markup=confirm_or_cancel(),
    )


async def decided(
    query: CallbackQuery,
    callback_data: AnnounceDecision,
    bot: Bot,
    state: FSMContext,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    announcer: Announcer,
    timetable: AnnouncementTimetable,
    clock: Clock,
) -> None:
    data = await state.get_data()
    if not callback_data.confirmed:
        await state.clear()
        await query.answer()
        await replace_message(query, words.cancelled(), None)
        return
    community = await _dialog_community(state, uow)
    if community is None:
        await state.clear()
        await query.answer(texts.stale_button(), show_alert=True)
        return
    if not await operators.is_operator(bot, community.id, query.from_user.id):
        raise NotAnOperator()
    draft = Draft(
        community_id=community.id,
        html=data["html"],
        photo=data.get("photo"),
        schedule=None if data["schedule"] == "now" else schedule_from_spec(data["schedule"]),
        audience=Audience(data["audience"]),
    )
    try:
        result = await announcements.create(
            uow,
            announcer,
            draft,
            community=community,
            actor_id=query.from_user.id,
            now=clock.now(),
        )
    except InvalidSchedule as error:  # the moment passed while the operator looked
        await uow.rollback()
        await state.set_state(AnnounceFlow.when)
        await query.answer()
        await replace_message(
            query, words.invalid_schedule(error.problem, community.timezone), None
        )
        return
    await state.clear()
    if result.next_run is not None:
        number = result.announcement.id
        uow.on_commit(lambda: timetable.changed(number))
    await query.answer()
    await replace_message(query, words.created(result, community.title, community.timezone), None)


# -- the list


async def _listing(
    bot: Bot, uow: UnitOfWork, operators: OperatorDirectory, user_id: int, clock: Clock
) -> tuple[str, InlineKeyboardMarkup | None]:
    operated = await operators.operated(bot, uow, user_id)
    lines = await announcements.planned(uow, operated, clock.now())
    shown = lines[:LISTED]
    return words.listing(shown, more=len(lines) - len(shown)), manage_buttons(shown)


async def show_list(
    message: Message, bot: Bot, uow: UnitOfWork, operators: OperatorDirectory, clock: Clock
) -> None:
    assert message.from_user is not None
    text, markup = await _listing(bot, uow, operators, message.from_user.id, clock)
    await message.answer(text, reply_markup=markup)


async def manage(
    query: CallbackQuery,
    callback_data: ManageAnnouncement,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    timetable: AnnouncementTimetable,
    clock: Clock,
) -> None:
    actor_id = query.from_user.id
    number, action = callback_data.announcement_id, callback_data.action
    if action is Manage.DELETE:
        await query.answer()
        await replace_message(query, words.confirm_delete(number), delete_or_keep(number))
        return
    operated = {community.id for community in await operators.operated(bot, uow, actor_id)}
    try:
        if action is Manage.DELETE_FOR_GOOD:
            await announcements.delete(
                uow, number, operated=operated, actor_id=actor_id, now=clock.now()
            )
            answer = words.deleted(number)
        elif action in (Manage.PAUSE, Manage.RESUME):
            paused = action is Manage.PAUSE
            await announcements.set_paused(
                uow, number, paused=paused, operated=operated, actor_id=actor_id, now=clock.now()
            )
            answer = words.paused(number) if paused else words.resumed(number)
        else:  # KEEP: back to the list
            answer = ""
    except UnknownAnnouncement:
        await uow.rollback()
        await query.answer(words.unknown_announcement(), show_alert=True)
        return
    except AlreadyInThatState as error:
        await uow.rollback()
        await query.answer(words.already(number, paused=error.announcement.paused), show_alert=True)
        return
    if action is not Manage.KEEP:
        uow.on_commit(lambda: timetable.changed(number))
    await query.answer(answer)
    await replace_message(query, *await _listing(bot, uow, operators, actor_id, clock))


# -- members


in_private_only = redirect(words.in_private)


async def private_copies(
    message: Message,
    command: CommandObject,
    person: Person | None,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    if person is None:
        return
    enabled = on_or_off(command, words.private_copies_usage)
    communities = await announcements.set_private_copies(
        uow, member_id=person.id, enabled=enabled, now=clock.now()
    )
    if not communities:
        await message.answer(texts.no_community())
        return
    titles = [community.title for community in communities]
    await message.answer(words.private_copies_changed(enabled, titles))


async def stop_from(
    query: CallbackQuery, callback_data: StopAnnouncements, uow: UnitOfWork, clock: Clock
) -> None:
    community = await announcements.stop_private_copies(
        uow,
        member_id=query.from_user.id,
        community_id=callback_data.community_id,
        now=clock.now(),
    )
    if community is None:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    await query.answer(words.stopped_from(community.title), show_alert=True)
    if isinstance(query.message, Message):
        with contextlib.suppress(TelegramBadRequest):  # pressed twice: the button is gone
            await query.message.edit_reply_markup(reply_markup=None)
