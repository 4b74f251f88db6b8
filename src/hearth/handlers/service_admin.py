"""Operators' side of maintenance reminders, in private: /service_settings shows and
changes them (on or off, the default interval, a model's own interval, the booking link;
an operator of several communities picks one first and later commands apply to it), and
/service_requests lists the members' open requests with a Done button each. Every change
is audited by the service; every button is checked against the very community it names.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from hearth.domain.cars import (
    BadServiceSetting,
    ServiceInterval,
    ServiceSettings,
    UnknownServiceRequest,
    parse_booking_url,
    parse_km,
    parse_months,
)
from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, Person
from hearth.handlers import cars_texts as words
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.cars_callbacks import ServiceRequestDone, ServiceRequestPage, requests_buttons
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.private_answers import community_or_picker, picker_button
from hearth.handlers.remembered_community import RememberedCommunity
from hearth.handlers.replies import redirect, replace_message
from hearth.services import cars
from hearth.services.ports import Clock, UnitOfWork

SETTINGS = "service_settings"  # the community pickers' actions
REQUESTS = "service_requests"
_PICKED = RememberedCommunity(action=SETTINGS, key="service_community")


def build() -> Router:
    router = Router(name="service_admin")
    commands = Command("service_settings", "service_requests")
    router.message.register(
        redirect(lambda _command: words.settings_in_private()), commands, InGroup(), IsOperator()
    )
    router.message.register(manage, Command("service_settings"), InPrivate(), IsOperator())
    router.message.register(show_requests, Command("service_requests"), InPrivate(), IsOperator())
    for action, handler in ((SETTINGS, settings_of), (REQUESTS, requests_of)):
        chosen = CommunityChoice.filter(F.action == action)
        router.callback_query.register(handler, chosen, InPrivate(), IsOperator())
        router.callback_query.register(refuse_non_operator_button, chosen)
    router.callback_query.register(turn_page, ServiceRequestPage.filter(), IsOperator())
    router.callback_query.register(done, ServiceRequestDone.filter(), IsOperator())
    # Whoever presses these and is not an operator (commands fall through to the fallback).
    router.callback_query.register(refuse_non_operator_button, ServiceRequestPage.filter())
    router.callback_query.register(refuse_non_operator_button, ServiceRequestDone.filter())
    return router


# -- settings


async def manage(
    message: Message,
    command: CommandObject,
    bot: Bot,
    person: Person | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
) -> None:
    if person is None:
        return
    community = await _PICKED.recall(message, bot, uow, operators, state, person.id)
    if community is None:
        return
    arguments = (command.args or "").split()
    if not arguments:
        current = await cars.settings_of(uow, community)
    else:
        try:
            current = await _change(uow, community, arguments, person.id, clock.now())
        except BadServiceSetting as bad:
            raise InvalidArgument(words.bad_setting(bad)) from None
    await message.answer(words.settings(community, current))


async def _change(
    uow: UnitOfWork, community: CommunityProfile, arguments: list[str], actor_id: int, now: datetime
) -> ServiceSettings:
    """Apply ``on``, ``off``, ``months N``, ``km N``, ``model NAME MONTHS KM``,
    ``model NAME off`` or ``booking URL|off``."""
    action, rest = arguments[0].casefold(), arguments[1:]
    if action in ("on", "off") and not rest:
        return await cars.switch(uow, community, on=action == "on", actor_id=actor_id, now=now)
    if action == "months" and len(rest) == 1:
        months = parse_months(rest[0])
        return await cars.set_interval(uow, community, months=months, actor_id=actor_id, now=now)
    if action == "km" and len(rest) == 1:
        km = parse_km(rest[0])
        return await cars.set_interval(uow, community, km=km, actor_id=actor_id, now=now)
    if action == "model" and len(rest) >= 2 and rest[-1].casefold() == "off":
        model = " ".join(rest[:-1])
        return await cars.set_model_interval(
            uow, community, model, None, actor_id=actor_id, now=now
        )
    if action == "model" and len(rest) >= 3:
        interval = ServiceInterval(parse_months(rest[-2]), parse_km(rest[-1]))
        model = " ".join(rest[:-2])
        return await cars.set_model_interval(
            uow, community, model, interval, actor_id=actor_id, now=now
        )
    if action == "booking" and len(rest) == 1:
        url = parse_booking_url(rest[0])
        return await cars.set_booking(uow, community, url, actor_id=actor_id, now=now)
    raise InvalidArgument(words.settings_usage())


async def settings_of(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
) -> None:
    community = await _PICKED.remember(
        query, bot, uow, operators, state, callback_data.community_id
    )
    if community is None:
        return
    current = await cars.settings_of(uow, community)
    await query.answer()
    await replace_message(query, words.settings(community, current), None)


# -- requests


async def show_requests(
    message: Message, bot: Bot, uow: UnitOfWork, operators: OperatorDirectory
) -> None:
    community = await community_or_picker(message, bot, uow, operators, picker_button(REQUESTS))
    if community is not None:
        page = await cars.requests_page(uow, community)
        await message.answer(words.requests(page), reply_markup=requests_buttons(page))


async def requests_of(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
) -> None:
    await _show_page(query, bot, uow, operators, callback_data.community_id, 0)


async def turn_page(
    query: CallbackQuery,
    callback_data: ServiceRequestPage,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
) -> None:
    await _show_page(query, bot, uow, operators, callback_data.community_id, callback_data.page)


async def _show_page(
    query: CallbackQuery,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    community_id: int,
    page_number: int,
) -> None:
    chosen = await chosen_operated_community(query, bot, uow, operators, community_id)
    if chosen is None:
        return
    page = await cars.requests_page(uow, chosen[0], page_number)
    await query.answer()
    await replace_message(query, words.requests(page), requests_buttons(page))


async def done(
    query: CallbackQuery,
    callback_data: ServiceRequestDone,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    operated = {each.id for each in await operators.operated(bot, uow, query.from_user.id)}
    try:
        settled = await cars.settle_request(
            uow,
            callback_data.request_id,
            actor_id=query.from_user.id,
            operated=operated,
            now=clock.now(),
        )
    except UnknownServiceRequest:
        await query.answer(words.unknown_request(), show_alert=True)
        return
    await query.answer(words.request_done(settled.id))
    community = await uow.communities.get(settled.community_id)
    if community is not None:
        page = await cars.requests_page(uow, community)
        await replace_message(query, words.requests(page), requests_buttons(page))
