"""/car: a member's car, in private, and the buttons of maintenance reminders.

/car shows the card of the member's only community (or a picker first): a button per field
asks for it (the next message is the answer, checked, with a clear answer when it is
wrong), another clears it, and a switch turns the reminders off or on. A reminder's
buttons book a service (a request to the team when the community has no booking link),
snooze it for two weeks or stop the reminders; only the member it was sent to may press
them, and only while the due day they name is still the car's.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, Update

from hearth.domain.calendar import local_day
from hearth.domain.cars import BadCarInput, CarField, NoMoreSnoozes, StaleReminder
from hearth.domain.members import CommunityProfile, Person
from hearth.handlers import cars_texts as words
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.cars_callbacks import CarEdit, ServiceAction, ServiceTap, card_buttons
from hearth.handlers.events_dialog import HasText, NotACommand
from hearth.handlers.filters import InGroup, InPrivate
from hearth.handlers.personal import chosen_community, only_community, start_link_markup
from hearth.handlers.replies import dialog_cancel, replace_message
from hearth.services import cars
from hearth.services.ports import Clock, ServiceNotices, UnitOfWork

ACTION = "car"  # the community picker's buttons
TYPING = "car_field"  # FSM data: the community and the field being typed


class CarDialog(StatesGroup):
    typing = State()  # the next message is the value of a field


def build() -> Router:
    router = Router(name="cars")
    router.message.register(show_car, Command("car"), InPrivate())
    router.message.register(car_in_group, Command("car"), InGroup())
    router.callback_query.register(car_of, CommunityChoice.filter(F.action == ACTION))
    router.callback_query.register(edit, CarEdit.filter(), InPrivate())
    router.message.register(
        dialog_cancel(words.cancelled),
        Command("cancel"),
        StateFilter(CarDialog.typing),
        InPrivate(),
    )
    router.message.register(
        take_value, StateFilter(CarDialog.typing), InPrivate(), NotACommand(), HasText()
    )
    router.message.register(expects_text, StateFilter(CarDialog.typing), InPrivate(), NotACommand())
    router.callback_query.register(reminder_pressed, ServiceTap.filter())
    return router


# -- the card


async def show_car(message: Message, person: Person | None, uow: UnitOfWork, clock: Clock) -> None:
    if person is None:
        return
    community = await only_community(message, uow, person.id, ACTION)
    if community is not None:
        shown = await cars.view(uow, community, person.id, clock.now())
        await message.answer(words.card(shown), reply_markup=card_buttons(shown, person.id))


async def car_in_group(message: Message, bot: Bot, community: CommunityProfile | None) -> None:
    markup = await start_link_markup(bot, community) if community is not None else None
    await message.reply(words.in_private(), reply_markup=markup)


async def car_of(
    query: CallbackQuery, callback_data: CommunityChoice, uow: UnitOfWork, clock: Clock
) -> None:
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None:
        return
    shown = await cars.view(uow, community, query.from_user.id, clock.now())
    await query.answer()
    await replace_message(query, words.card(shown), card_buttons(shown, query.from_user.id))


async def edit(
    query: CallbackQuery,
    callback_data: CarEdit,
    uow: UnitOfWork,
    state: FSMContext,
    clock: Clock,
) -> None:
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None:
        return
    member_id, which = query.from_user.id, callback_data.field
    if callback_data.clear:
        shown = await cars.clear_field(uow, community, member_id, which, clock.now())
        await query.answer(words.cleared(which))
        await replace_message(query, words.card(shown), card_buttons(shown, member_id))
        return
    await state.set_state(CarDialog.typing)
    await state.update_data({TYPING: {"community_id": community.id, "field": which.value}})
    await query.answer()
    if isinstance(query.message, Message):
        today = local_day(clock.now(), community.timezone)
        await query.message.answer(words.ask(which, today))


async def take_value(
    message: Message,
    person: Person | None,
    event_update: Update,
    uow: UnitOfWork,
    state: FSMContext,
    clock: Clock,
) -> None:
    typing = (await state.get_data()).get(TYPING)
    community = await _typing_in(uow, person, typing)
    if person is None or community is None or not isinstance(typing, dict):
        await state.clear()
        await message.answer(words.cancelled())
        return
    which = CarField(typing["field"])
    now = clock.now()
    try:
        shown = await cars.set_field(
            uow,
            community,
            person.id,
            which,
            message.text or "",
            now=now,
            update_id=event_update.update_id,
        )
    except BadCarInput as error:
        await message.answer(words.bad_input(error, local_day(now, community.timezone)))
        return  # the dialog waits for a better answer
    await state.clear()
    await message.answer(words.saved())
    await message.answer(words.card(shown), reply_markup=card_buttons(shown, person.id))


async def _typing_in(
    uow: UnitOfWork, person: Person | None, typing: object
) -> CommunityProfile | None:
    """The community the field being typed is about, if the member still belongs to it."""
    if person is None or not isinstance(typing, dict):
        return None
    if typing.get("field") not in {each.value for each in CarField}:
        return None
    for community in await uow.memberships.communities_of(person.id):
        if community.id == typing.get("community_id"):
            return community
    return None


async def expects_text(message: Message) -> None:
    await message.answer(words.expects_text())


# -- the reminder's buttons (and the switch in /car)


async def reminder_pressed(
    query: CallbackQuery,
    callback_data: ServiceTap,
    uow: UnitOfWork,
    service_notices: ServiceNotices,
    clock: Clock,
) -> None:
    if callback_data.member_id != query.from_user.id:
        await query.answer(words.not_yours(), show_alert=True)
        return
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None:
        return
    member_id, now, action = query.from_user.id, clock.now(), callback_data.action
    if action in (ServiceAction.STOP, ServiceAction.RESUME):
        on = action is ServiceAction.RESUME
        shown = await cars.set_reminders(uow, community, member_id, on=on, now=now)
        await query.answer(words.resumed() if on else words.stopped(), show_alert=not on)
        if callback_data.due_on is None:  # the switch on the card: show the card as it is now
            await replace_message(query, words.card(shown), card_buttons(shown, member_id))
        return
    due_on = callback_data.due_on
    try:
        if due_on is None:
            raise StaleReminder()
        if action is ServiceAction.SNOOZE:
            until = await cars.snooze(uow, community, member_id, due_on, now)
            await query.answer(words.snoozed(until), show_alert=True)
            return
        new = await cars.request_service(uow, service_notices, community, member_id, due_on, now)
    except StaleReminder:
        await query.answer(words.stale_reminder(), show_alert=True)
        return
    except NoMoreSnoozes:
        await query.answer(words.no_more_snoozes(), show_alert=True)
        return
    await query.answer(words.requested() if new else words.requested_already(), show_alert=True)
