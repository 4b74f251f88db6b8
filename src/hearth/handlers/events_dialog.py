"""/event_new: a short guided dialog in private, one question per message, then a preview
with Publish / Cancel. The answers live in the FSM storage (JSON-safe values only) until
Publish; nothing is stored before. /skip takes an optional step's default, /cancel stops.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n

from hearth.domain.deep_links import start_link
from hearth.domain.errors import HearthError, NotAnOperator
from hearth.domain.events import (
    DEFAULT_DURATION,
    DEFAULT_POINTS,
    Event,
    EventDraft,
    InvalidEventInput,
    attendance_payload,
    local_time,
    parse_capacity,
    parse_deadline,
    parse_description,
    parse_end,
    parse_place,
    parse_points,
    parse_title,
    parse_when,
)
from hearth.domain.members import CommunityProfile
from hearth.handlers import events_texts, texts
from hearth.handlers.events_callbacks import (
    EventPublish,
    NewEventFor,
    community_picker,
    publish_or_discard,
    rsvp_buttons,
)
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.qr_codes import link_qr
from hearth.handlers.replies import dialog_cancel
from hearth.handlers.rewards_callbacks import new_nonce
from hearth.services import events
from hearth.services.ports import Clock, UnitOfWork

DRAFT = "event_new"  # the FSM data key of the draft


class EventDialog(StatesGroup):
    community = State()
    title = State()
    description = State()
    place = State()
    when = State()
    end = State()
    capacity = State()
    deadline = State()
    points = State()
    photo = State()
    preview = State()


TEXT_STEPS = (
    EventDialog.title,
    EventDialog.description,
    EventDialog.place,
    EventDialog.when,
    EventDialog.end,
    EventDialog.capacity,
    EventDialog.deadline,
    EventDialog.points,
)


class CannotSkip(HearthError):
    """/skip on a step that needs an answer."""


class NotACommand(Filter):
    """A message that is not a command: other commands keep working during the dialog."""

    async def __call__(self, message: Message) -> bool:
        return not (message.text or "").startswith("/")


def build() -> Router:
    router = Router(name="events_dialog")
    router.message.register(start, Command("event_new"), InPrivate(), IsOperator())
    router.callback_query.register(community_chosen, NewEventFor.filter(), IsOperator())
    router.message.register(cancel, Command("cancel"), StateFilter(EventDialog), InPrivate())
    router.message.register(skip, Command("skip"), StateFilter(*TEXT_STEPS), InPrivate())
    router.message.register(
        skip_photo, Command("skip"), StateFilter(EventDialog.photo), InPrivate()
    )
    router.message.register(
        take_answer, StateFilter(*TEXT_STEPS), InPrivate(), NotACommand(), HasText()
    )
    router.message.register(take_photo, StateFilter(EventDialog.photo), InPrivate(), HasPhoto())
    router.callback_query.register(publish, EventPublish.filter(), IsOperator())
    # Anything else while the dialog waits: say what it expects.
    router.message.register(not_understood, StateFilter(EventDialog), InPrivate(), NotACommand())
    # Whoever presses these and is not an operator (commands fall through to the fallback).
    router.callback_query.register(refuse_non_operator_button, NewEventFor.filter())
    router.callback_query.register(refuse_non_operator_button, EventPublish.filter())
    return router


class HasText(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.text is not None


class HasPhoto(Filter):
    async def __call__(self, message: Message) -> bool:
        return bool(message.photo)


# -- starting


async def start(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
) -> None:
    assert message.from_user is not None
    operated = await operators.operated(bot, uow, message.from_user.id)
    if not operated:
        await message.answer(texts.no_communities())
        return
    nonce = new_nonce()
    await state.set_data({DRAFT: {"nonce": nonce}})
    if len(operated) == 1:
        await _begin(message, state, operated[0])
        return
    await state.set_state(EventDialog.community)
    await message.answer(texts.choose_community(), reply_markup=community_picker(operated, nonce))


async def community_chosen(
    query: CallbackQuery,
    callback_data: NewEventFor,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
) -> None:
    draft = await _draft_data(state)
    if (
        draft is None
        or draft.get("nonce") != callback_data.nonce
        or await state.get_state() != EventDialog.community.state
    ):
        await query.answer(texts.stale_button(), show_alert=True)  # old, replayed or forged
        return
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    community, picker = chosen
    await query.answer()
    await _begin(picker, state, community)


async def _begin(message: Message, state: FSMContext, community: CommunityProfile) -> None:
    draft = await _draft_data(state) or {}
    draft["community_id"] = community.id
    draft["timezone"] = community.timezone
    await state.update_data({DRAFT: draft})
    await state.set_state(EventDialog.title)
    await message.answer(events_texts.ask_title())


# -- the questions


async def take_answer(message: Message, state: FSMContext, clock: Clock) -> None:
    await _answer(message, state, clock, message.text)


async def skip(message: Message, state: FSMContext, clock: Clock) -> None:
    await _answer(message, state, clock, None)


async def _answer(message: Message, state: FSMContext, clock: Clock, text: str | None) -> None:
    draft = await _draft_data(state)
    step = (await state.get_state() or "").partition(":")[2]
    if draft is None or "timezone" not in draft:
        await state.clear()
        await message.answer(texts.stale_button())
        return
    try:
        following = advance(step, text, draft, draft["timezone"], clock.now())
    except CannotSkip:
        await message.answer(events_texts.cannot_skip())
        return
    except InvalidEventInput as error:
        await message.answer(events_texts.invalid_input(error))
        return
    await state.update_data({DRAFT: draft})
    await state.set_state(getattr(EventDialog, following))
    await message.answer(prompt(following, draft["timezone"], clock.now()))


def advance(
    step: str, text: str | None, draft: dict[str, Any], timezone: str, now: datetime
) -> str:
    """Take the answer to ``step`` (None: /skip) into ``draft``; the name of the next step.

    Raises InvalidEventInput for an answer that cannot be taken, CannotSkip for /skip on
    a step that needs one.
    """
    if step == "title":
        draft["title"] = parse_title(_needed(text))
        return "description"
    if step == "description":
        draft["description"] = "" if text is None else parse_description(text)
        return "place"
    if step == "place":
        draft["place"] = parse_place(_needed(text))
        return "when"
    if step == "when":
        start, end = parse_when(_needed(text), timezone, now)
        draft["starts_at"] = start.isoformat()
        if end is None:
            return "end"
        draft["ends_at"] = end.isoformat()
        return "capacity"
    start = datetime.fromisoformat(draft["starts_at"])
    if step == "end":
        end = start + DEFAULT_DURATION if text is None else parse_end(text, start, timezone)
        draft["ends_at"] = end.isoformat()
        return "capacity"
    if step == "capacity":
        draft["capacity"] = None if text is None else parse_capacity(text)
        return "deadline"
    if step == "deadline":
        deadline = start if text is None else parse_deadline(text, timezone, start=start, now=now)
        draft["deadline"] = deadline.isoformat()
        return "points"
    if step == "points":
        draft["points"] = DEFAULT_POINTS if text is None else parse_points(text)
        return "photo"
    raise ValueError(f"unknown step {step!r}")


def prompt(step: str, timezone: str, now: datetime) -> str:
    """The question of ``step``."""
    if step == "when":
        next_week = local_time(now, timezone).date() + timedelta(days=7)
        return events_texts.ask_when(timezone, f"{next_week.isoformat()} 14:00")
    questions = {
        "description": events_texts.ask_description,
        "place": events_texts.ask_place,
        "end": events_texts.ask_end,
        "capacity": events_texts.ask_capacity,
        "deadline": events_texts.ask_deadline,
        "points": events_texts.ask_points,
        "photo": events_texts.ask_photo,
    }
    return questions[step]()


def _needed(text: str | None) -> str:
    if text is None:
        raise CannotSkip()
    return text


async def take_photo(message: Message, state: FSMContext, uow: UnitOfWork) -> None:
    assert message.photo
    await _preview(message, state, uow, message.photo[-1].file_id)  # the largest size


async def skip_photo(message: Message, state: FSMContext, uow: UnitOfWork) -> None:
    await _preview(message, state, uow, None)


async def _preview(message: Message, state: FSMContext, uow: UnitOfWork, photo: str | None) -> None:
    draft = await _draft_data(state)
    community = (
        await uow.communities.get(draft["community_id"])
        if draft and "community_id" in draft
        else None
    )
    if draft is None or community is None:
        await state.clear()
        await message.answer(texts.stale_button())
        return
    draft["photo"] = photo
    await state.update_data({DRAFT: draft})
    await state.set_state(EventDialog.preview)
    text = events_texts.preview(event_draft(draft), community)
    markup = publish_or_discard(draft["nonce"])
    if photo is not None and len(text) <= events_texts.CAPTION_LIMIT:
        await message.answer_photo(photo, caption=text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


def event_draft(draft: dict[str, Any]) -> EventDraft:
    """The stored answers as a domain draft."""
    start = datetime.fromisoformat(draft["starts_at"])
    return EventDraft(
        title=draft["title"],
        description=draft.get("description", ""),
        place=draft["place"],
        starts_at=start,
        ends_at=datetime.fromisoformat(draft["ends_at"]),
        capacity=draft.get("capacity"),
        registration_deadline=datetime.fromisoformat(draft.get("deadline") or draft["starts_at"]),
        points=int(draft.get("points", DEFAULT_POINTS)),
        photo=draft.get("photo"),
    )


async def not_understood(message: Message, state: FSMContext) -> None:
    if await state.get_state() == EventDialog.photo.state:
        await message.answer(events_texts.answer_with_photo())
    elif await state.get_state() in (EventDialog.community.state, EventDialog.preview.state):
        await message.answer(events_texts.answer_with_buttons())
    else:
        await message.answer(events_texts.answer_with_text())


cancel = dialog_cancel(events_texts.dialog_cancelled)


# -- publishing


async def publish(
    query: CallbackQuery,
    callback_data: EventPublish,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
    i18n: I18n,
) -> None:
    draft = await _draft_data(state)
    if (
        draft is None
        or draft.get("nonce") != callback_data.nonce
        or await state.get_state() != EventDialog.preview.state
    ):
        await query.answer(texts.stale_button(), show_alert=True)  # pressed twice, or forged
        return
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    reply_to = query.from_user.id
    if not callback_data.publish:
        await bot.send_message(reply_to, events_texts.dialog_cancelled())
        return
    if not await operators.is_operator(bot, draft["community_id"], query.from_user.id):
        raise NotAnOperator()
    community = await uow.communities.get(draft["community_id"])
    proposal = event_draft(draft)
    if community is None or not community.active:
        await bot.send_message(reply_to, texts.stale_button())
        return
    now = clock.now()
    if proposal.starts_at <= now:
        await bot.send_message(reply_to, events_texts.time_passed())
        return
    event = await events.publish(
        uow, community=community, draft=proposal, actor_id=query.from_user.id, now=now
    )
    # The card is posted directly: it is the operator's own action (one message, sent now),
    # its message id is needed before any RSVP can edit it, and a failure is told at once.
    with in_language_of(i18n, community):  # the group's language, not the operator's
        card = events_texts.card(event, community, await uow.events.counts(event.id))
        buttons = rsvp_buttons(event.id)
    try:
        if event.photo is not None:
            await bot.send_photo(
                community.id, event.photo, caption=events_texts.photo_caption(event.title)
            )
        posted = await bot.send_message(community.id, card, reply_markup=buttons)
    except TelegramAPIError:
        await events.withdraw_unposted(uow, event, actor_id=query.from_user.id, now=clock.now())
        await bot.send_message(reply_to, events_texts.post_failed(community))
        return
    await events.card_posted(uow, event.id, posted.message_id)
    await bot.send_message(reply_to, events_texts.published(event, community))
    await send_qr(bot, reply_to, event)


def in_language_of(i18n: I18n, community: CommunityProfile) -> AbstractContextManager[Any]:
    """Render texts for the whole group: in the community's language."""
    locale = community.locale if community.locale in i18n.available_locales else None
    return i18n.use_locale(locale or i18n.default_locale)


def attendance_qr(bot_username: str, code: str) -> bytes:
    """A PNG QR code of the deep link that checks a member in at the event."""
    return link_qr(start_link(bot_username, attendance_payload(code)))


async def send_qr(bot: Bot, chat_id: int, event: Event) -> None:
    """The event's attendance QR code, as a PNG photo, to the operator."""
    me = await bot.me()
    png = attendance_qr(me.username or "", event.code)
    await bot.send_photo(
        chat_id,
        BufferedInputFile(png, filename=f"event-{event.id}-{event.code}.png"),
        caption=events_texts.qr_caption(event),
    )


async def _draft_data(state: FSMContext) -> dict[str, Any] | None:
    draft = (await state.get_data()).get(DRAFT)
    return draft if isinstance(draft, dict) else None
