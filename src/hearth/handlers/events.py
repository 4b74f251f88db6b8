"""Events: /events and the RSVP buttons, on-site check-in (/attend, the QR deep link, or
the bare code), feedback, and the operators' /event_edit, /event_cancel, /event_code and
/event_report. Creating an event is a dialog of its own (``events_dialog``).

The bot's own messages that follow from an answer (the card's counts, "you moved up")
are queued by ``event_notices`` in the update's transaction; only direct answers to the
person who pressed or wrote are sent from here.
"""

from __future__ import annotations

import re
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update

from hearth.domain.errors import InvalidArgument
from hearth.domain.events import (
    AlreadyAttended,
    CheckinClosed,
    Event,
    EventUnavailable,
    InvalidEventInput,
    RsvpStatus,
    UnknownCode,
    UnknownEvent,
    normalise_code,
    parse_comment,
)
from hearth.domain.members import CommunityProfile, MemberProfile, Person
from hearth.handlers import events_dialog, events_texts, texts
from hearth.handlers.events_callbacks import (
    EventRating,
    EventRecommend,
    EventRsvp,
    listing_buttons,
    recommend_buttons,
)
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import Acknowledger, answer_personally
from hearth.handlers.replies import redirect, replace_message
from hearth.handlers.repositories import refusal
from hearth.services import events
from hearth.services.directory import Directory
from hearth.services.ports import Clock, EventNotices, UnitOfWork

OPERATOR_COMMANDS = ("event_new", "event_edit", "event_cancel", "event_code", "event_report")
_NUMBER = re.compile(r"#?(\d{1,18})")
_MEMBER_REFUSALS = (EventUnavailable, UnknownCode, CheckinClosed, AlreadyAttended)
_OPERATOR_REFUSALS = (UnknownEvent, EventUnavailable, InvalidEventInput)
FEEDBACK = "event_feedback"  # the FSM data key of the event a comment is about


class FeedbackDialog(StatesGroup):
    comment = State()


class KnownCode(Filter):
    """A bare private message that is an event's attendance code (looked up, so that other
    short words still reach the fallback)."""

    async def __call__(self, message: Message, uow: UnitOfWork) -> bool | dict[str, Any]:
        text = message.text or ""
        code = normalise_code(text) if len(text) <= 16 else None
        if code is None or await uow.events.by_code(code) is None:
            return False
        return {"code": code}


def build() -> Router:
    router = Router(name="events")
    router.include_router(events_dialog.build())
    router.message.register(events_here, Command("events"), InGroup())
    router.message.register(events_of_member, Command("events"), InPrivate())
    router.callback_query.register(rsvp, EventRsvp.filter())
    router.message.register(attend_command, Command("attend"), InPrivate())
    router.message.register(attend_in_group, Command("attend"), InGroup())
    # A code wins over a comment still awaited (the member may have moved on long since).
    router.message.register(
        attend_by_code, StateFilter(None, FeedbackDialog.comment), InPrivate(), KnownCode()
    )
    router.callback_query.register(rate, EventRating.filter())
    router.callback_query.register(recommend, EventRecommend.filter())
    router.message.register(
        skip_comment, Command("skip", "cancel"), StateFilter(FeedbackDialog.comment), InPrivate()
    )
    router.message.register(
        take_comment,
        StateFilter(FeedbackDialog.comment),
        InPrivate(),
        events_dialog.NotACommand(),
        events_dialog.HasText(),
    )
    # Operators: in private only; the operator check runs after the command matched.
    router.message.register(send_in_private, Command(*OPERATOR_COMMANDS), InGroup(), IsOperator())
    router.message.register(edit, Command("event_edit"), InPrivate(), IsOperator())
    router.message.register(cancel, Command("event_cancel"), InPrivate(), IsOperator())
    router.message.register(show_code, Command("event_code"), InPrivate(), IsOperator())
    router.message.register(report, Command("event_report"), InPrivate(), IsOperator())
    return router


# -- members: the list and the RSVP buttons


async def events_here(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    directory: Directory,
    acks: Acknowledger,
    clock: Clock,
) -> None:
    if community is None or person is None:
        return
    text, markup = await _listing(uow, [community], person.id, clock)
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


async def events_of_member(
    message: Message, person: Person | None, uow: UnitOfWork, clock: Clock
) -> None:
    if person is None:
        return
    communities = await uow.memberships.communities_of(person.id)
    if not communities:
        await message.answer(texts.no_community())
        return
    text, markup = await _listing(uow, communities, person.id, clock)
    await message.answer(text, reply_markup=markup)


async def _listing(
    uow: UnitOfWork, communities: list[CommunityProfile], member_id: int, clock: Clock
) -> tuple[str, InlineKeyboardMarkup | None]:
    listings = await events.upcoming(
        uow, communities=communities, member_id=member_id, now=clock.now()
    )
    return events_texts.events_list(listings), listing_buttons([item.event for item in listings])


async def rsvp(
    query: CallbackQuery,
    callback_data: EventRsvp,
    uow: UnitOfWork,
    event_notices: EventNotices,
    clock: Clock,
    event_update: Update,
) -> None:
    try:
        result = await events.answer(
            uow,
            event_notices,
            event_id=callback_data.event_id,
            member_id=query.from_user.id,
            answer=callback_data.answer,
            now=clock.now(),
            update_id=event_update.update_id,
        )
    except EventUnavailable as error:
        # A toast, never a group message: callback answers cost no group budget.
        await query.answer(events_texts.refusal(error), show_alert=True)
        return
    await query.answer(
        events_texts.rsvp_answered(result), show_alert=result.status is RsvpStatus.WAITLISTED
    )


# -- members: on-site check-in


async def attend_command(
    message: Message,
    command: CommandObject,
    person: Person | None,
    uow: UnitOfWork,
    clock: Clock,
    event_update: Update,
) -> None:
    if person is None:
        return
    if not (command.args or "").strip():
        await message.answer(events_texts.attend_usage())
        return
    code = normalise_code(command.args)
    if code is None:
        await message.answer(events_texts.refusal(UnknownCode((command.args or "").strip()[:16])))
        return
    await attend_with(message, uow, person, code, clock, event_update.update_id)


async def attend_by_code(
    message: Message,
    code: str,
    person: Person | None,
    uow: UnitOfWork,
    clock: Clock,
    event_update: Update,
) -> None:
    if person is not None:
        await attend_with(message, uow, person, code, clock, event_update.update_id)


async def attend_in_group(message: Message) -> None:
    # The code must not be typed where everyone reads it.
    await message.reply(events_texts.private_only("attend"))


async def attend_with(
    message: Message,
    uow: UnitOfWork,
    person: Person,
    code: str,
    clock: Clock,
    update_id: int | None,
) -> None:
    """Check ``person`` in with ``code`` and answer (also used by the /start deep link)."""
    try:
        attendance = await events.attend(
            uow, code=code, member_id=person.id, now=clock.now(), update_id=update_id
        )
    except _MEMBER_REFUSALS as error:
        await message.answer(events_texts.refusal(error))
        return
    await message.answer(events_texts.attended(attendance))


# -- members: feedback


async def rate(
    query: CallbackQuery,
    callback_data: EventRating,
    uow: UnitOfWork,
    clock: Clock,
    event_update: Update,
) -> None:
    event = await _feedback_from_button(
        query, uow, clock, event_update, callback_data.event_id, rating=callback_data.rating
    )
    if event is None:
        return
    community = await uow.communities.get(event.community_id)
    await query.answer()
    text = "\n\n".join(
        [
            events_texts.rated(callback_data.rating),
            events_texts.ask_recommend(community.title if community else ""),
        ]
    )
    await replace_message(query, text, recommend_buttons(event.id))


async def recommend(
    query: CallbackQuery,
    callback_data: EventRecommend,
    uow: UnitOfWork,
    state: FSMContext,
    clock: Clock,
    event_update: Update,
) -> None:
    event = await _feedback_from_button(
        query, uow, clock, event_update, callback_data.event_id, recommend=callback_data.score
    )
    if event is None:
        return
    await query.answer()
    await state.set_state(FeedbackDialog.comment)
    await state.update_data({FEEDBACK: event.id})
    await replace_message(query, events_texts.ask_comment(), None)


async def _feedback_from_button(
    query: CallbackQuery,
    uow: UnitOfWork,
    clock: Clock,
    event_update: Update,
    event_id: int,
    *,
    rating: int | None = None,
    recommend: int | None = None,
) -> Event | None:
    """Store a rating or a recommendation score; None when refused (answered as an alert)."""
    try:
        return await events.give_feedback(
            uow,
            event_id=event_id,
            member_id=query.from_user.id,
            now=clock.now(),
            rating=rating,
            recommend=recommend,
            update_id=event_update.update_id,
        )
    except EventUnavailable as error:
        await query.answer(events_texts.refusal(error), show_alert=True)
        return None


async def take_comment(
    message: Message,
    person: Person | None,
    uow: UnitOfWork,
    state: FSMContext,
    clock: Clock,
    event_update: Update,
) -> None:
    event_id = (await state.get_data()).get(FEEDBACK)
    await state.clear()
    if person is None or not isinstance(event_id, int):
        return
    try:
        await events.give_feedback(
            uow,
            event_id=event_id,
            member_id=person.id,
            now=clock.now(),
            comment=parse_comment(message.text or ""),
            update_id=event_update.update_id,
        )
    except (EventUnavailable, InvalidEventInput) as error:
        await message.answer(events_texts.refusal(error))
        return
    await message.answer(events_texts.comment_thanks())


async def skip_comment(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(events_texts.feedback_thanks())


# -- operators


send_in_private = redirect(events_texts.private_only)


def _event_number(arguments: str | None, command: str) -> int:
    match = _NUMBER.fullmatch((arguments or "").strip())
    if match is None:
        raise InvalidArgument(events_texts.number_usage(command))
    return int(match.group(1))


async def _operated(
    bot: Bot, uow: UnitOfWork, operators: OperatorDirectory, user_id: int
) -> set[int]:
    return {community.id for community in await operators.operated(bot, uow, user_id)}


_refused = refusal(events_texts.refusal)


async def edit(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    event_notices: EventNotices,
    clock: Clock,
) -> None:
    parts = (command.args or "").split(maxsplit=2)
    match = _NUMBER.fullmatch(parts[0]) if parts else None
    if match is None or len(parts) < 3:
        raise InvalidArgument(events_texts.edit_usage())
    assert message.from_user is not None
    try:
        event = await events.edit(
            uow,
            event_notices,
            event_id=int(match.group(1)),
            field_name=parts[1],
            value=parts[2],
            actor_id=message.from_user.id,
            operated=await _operated(bot, uow, operators, message.from_user.id),
            now=clock.now(),
        )
    except _OPERATOR_REFUSALS as error:
        await message.answer(await _refused(uow, error))
        return
    community = await uow.communities.get(event.community_id)
    assert community is not None
    counts = await uow.events.counts(event.id)
    await message.answer(events_texts.edited(event, community, counts))


async def cancel(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    event_notices: EventNotices,
    clock: Clock,
) -> None:
    event_id = _event_number(command.args, "event_cancel")
    assert message.from_user is not None
    try:
        result = await events.cancel(
            uow,
            event_notices,
            event_id=event_id,
            actor_id=message.from_user.id,
            operated=await _operated(bot, uow, operators, message.from_user.id),
            now=clock.now(),
        )
    except _OPERATOR_REFUSALS as error:
        await message.answer(await _refused(uow, error))
        return
    await message.answer(events_texts.cancelled(result))


async def show_code(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
) -> None:
    event_id = _event_number(command.args, "event_code")
    assert message.from_user is not None
    try:
        event = await events.operated_event(
            uow, event_id, await _operated(bot, uow, operators, message.from_user.id)
        )
    except UnknownEvent as error:
        await message.answer(events_texts.refusal(error))
        return
    community = await uow.communities.get(event.community_id)
    assert community is not None
    await message.answer(events_texts.attendance_instructions(event, community))
    await events_dialog.send_qr(bot, message.chat.id, event)


async def report(
    message: Message,
    command: CommandObject,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
) -> None:
    event_id = _event_number(command.args, "event_report")
    assert message.from_user is not None
    try:
        result = await events.report(
            uow,
            event_id=event_id,
            operated=await _operated(bot, uow, operators, message.from_user.id),
        )
    except UnknownEvent as error:
        await message.answer(events_texts.refusal(error))
        return
    community = await uow.communities.get(result.event.community_id)
    await message.answer(events_texts.report(result, community.timezone if community else "UTC"))
