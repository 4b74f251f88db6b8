"""Newcomer missions: the checklist after /start, and /missions, where operators see and
change their community's missions in private.

``/missions`` shows the list with buttons that put a mission on it or take it off and turn
the missions on or off (an operator of several communities picks one first; later
commands apply to the one picked). ``on``, ``off``, ``enable KEY``, ``disable KEY``,
``points KEY N`` and ``bonus N`` change it by text. Every change is audited by the service.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, Person
from hearth.domain.missions import BadMissionChange, Programme, parse_mission, parse_points
from hearth.handlers import missions_texts as words
from hearth.handlers.callbacks import CHAT_ID_LIMIT, CommunityChoice
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.remembered_community import RememberedCommunity
from hearth.handlers.replies import redirect, replace_message
from hearth.services import missions
from hearth.services.ports import Clock, UnitOfWork

ACTION = "missions"  # the community picker's buttons
_PICKED = RememberedCommunity(action=ACTION, key="missions_community")


class MissionEdit(CallbackData, prefix="ms1"):
    """An operator put a mission on the list or took it off (``mission``), or turned the
    missions on or off (no ``mission``). The wanted state travels, not a toggle: an old
    button pressed twice does what it says."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    mission: str = Field(default="", max_length=16, pattern=r"^[a-z]*$")
    enabled: bool


def build() -> Router:
    router = Router(name="missions")
    command = Command("missions")
    router.message.register(manage, command, InPrivate(), IsOperator())
    router.message.register(
        redirect(lambda _command: words.in_private()), command, InGroup(), IsOperator()
    )
    chosen = CommunityChoice.filter(F.action == ACTION)
    router.callback_query.register(missions_of, chosen, InPrivate(), IsOperator())
    router.callback_query.register(refuse_non_operator_button, chosen)
    router.callback_query.register(edit, MissionEdit.filter(), InPrivate(), IsOperator())
    router.callback_query.register(refuse_non_operator_button, MissionEdit.filter())
    return router


async def show_checklist(
    bot: Bot, uow: UnitOfWork, community: CommunityProfile, member_id: int, now: datetime
) -> None:
    """After /start or a join: a newcomer's checklist in private, while the community's
    missions are on."""
    found = await missions.checklist_of(uow, community, member_id, now)
    if found is not None:
        await bot.send_message(
            member_id, words.checklist(found, community.title, community.timezone)
        )


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
        programme = await missions.programme_of(uow, community)
    else:
        try:
            programme = await _change(uow, community, arguments, person.id, clock.now())
        except BadMissionChange as bad:
            raise InvalidArgument(words.bad_change(bad.reason)) from None
    await message.answer(
        words.overview(programme, community.title), reply_markup=_buttons(community, programme)
    )


async def _change(
    uow: UnitOfWork, community: CommunityProfile, arguments: list[str], actor_id: int, now: datetime
) -> Programme:
    """Apply ``on``, ``off``, ``enable|disable KEY``, ``points KEY N`` or ``bonus N``."""
    action, rest = arguments[0].lower(), arguments[1:]
    if action in ("on", "off") and not rest:
        return await missions.switch(
            uow, community, enabled=action == "on", actor_id=actor_id, now=now
        )
    if action in ("enable", "disable") and len(rest) == 1:
        return await missions.list_mission(
            uow,
            community,
            parse_mission(rest[0]),
            enabled=action == "enable",
            actor_id=actor_id,
            now=now,
        )
    if action == "points" and len(rest) == 2:
        mission, worth = parse_mission(rest[0]), parse_points(rest[1])
        return await missions.set_points(uow, community, mission, worth, actor_id=actor_id, now=now)
    if action == "bonus" and len(rest) == 1:
        return await missions.set_bonus(
            uow, community, parse_points(rest[0]), actor_id=actor_id, now=now
        )
    raise InvalidArgument(words.usage())


async def missions_of(
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
    programme = await missions.programme_of(uow, community)
    await query.answer()
    await replace_message(
        query, words.overview(programme, community.title), _buttons(community, programme)
    )


async def edit(
    query: CallbackQuery,
    callback_data: MissionEdit,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    # Checked for this very community: the button may be old or forged.
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    community, _shown = chosen
    actor, now, enabled = query.from_user.id, clock.now(), callback_data.enabled
    if callback_data.mission:
        try:
            mission = parse_mission(callback_data.mission)
        except BadMissionChange:
            await query.answer(words.bad_change("unknown"), show_alert=True)
            return
        programme = await missions.list_mission(
            uow, community, mission, enabled=enabled, actor_id=actor, now=now
        )
    else:
        programme = await missions.switch(uow, community, enabled=enabled, actor_id=actor, now=now)
    await query.answer()
    await replace_message(
        query, words.overview(programme, community.title), _buttons(community, programme)
    )


def _buttons(community: CommunityProfile, programme: Programme) -> InlineKeyboardMarkup:
    """A button per mission that takes it off the list (or puts it on), and the switch."""
    builder = InlineKeyboardBuilder()
    for rule in programme.rules:
        builder.button(
            text=words.mission_button(rule.mission, rule.enabled),
            callback_data=MissionEdit(
                community_id=community.id, mission=rule.mission.value, enabled=not rule.enabled
            ),
        )
    builder.button(
        text=words.switch_button(programme.enabled),
        callback_data=MissionEdit(community_id=community.id, enabled=not programme.enabled),
    )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(3, 2, 1).export())
