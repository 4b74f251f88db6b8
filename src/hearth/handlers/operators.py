"""Operator commands: /stats and /welcome. Non-operators get a clear refusal."""

from __future__ import annotations

import re
from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from hearth.domain.calendar import local_day
from hearth.domain.errors import InvalidArgument, NotAnOperator
from hearth.domain.members import CommunityProfile
from hearth.handlers import (
    attribution,
    channels,
    exit_survey_texts,
    keyboards,
    missions_texts,
    switches,
    texts,
)
from hearth.handlers.callbacks import StatsChoice
from hearth.handlers.filters import InPrivate, IsOperator, OperatorDirectory
from hearth.services import communities, exit_survey, missions, reports
from hearth.services.ports import Clock, UnitOfWork

_PERIODS = {"7d": 7, "30d": 30, "90d": 90}
_PERIOD_ARGUMENT = re.compile(r"(\d{1,2})d?")


def build() -> Router:
    router = Router(name="operators")
    # The operator check runs after the command matched: other messages never pay for it.
    router.message.register(stats, Command("stats"), IsOperator())
    # The picker lives in private: figures are never posted under a group message.
    router.callback_query.register(
        stats_for, StatsChoice.filter(F.days.in_(set(_PERIODS.values()))), InPrivate(), IsOperator()
    )
    switches.register(
        router,
        switches.Switch(
            "welcome", communities.set_welcome, texts.welcome_usage, texts.welcome_changed
        ),
    )
    return router


def parse_period(argument: str | None) -> int:
    """Days in a /stats period argument (7d, 30d, 90d; default 7)."""
    if not argument:
        return 7
    match = _PERIOD_ARGUMENT.fullmatch(argument.strip().lower())
    if match is None or int(match.group(1)) not in _PERIODS.values():
        raise InvalidArgument(texts.stats_usage())
    return int(match.group(1))


def _subcommand(arguments: str | None) -> tuple[str, str]:
    """The first word of /stats's arguments (lower case) and the words after it."""
    first, *rest = (arguments or "").split(maxsplit=1) or [""]
    return first.lower(), "".join(rest)


async def stats(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    subcommand, rest = _subcommand(command.args)
    if subcommand == channels.SUBCOMMAND:  # /stats channels [days]
        await channels.stats_by_channel(message, rest, bot, community, uow, operators, clock)
        return
    if subcommand == attribution.SUBCOMMAND:  # /stats conversions [days] [kind]
        await attribution.stats_conversions(message, rest, bot, community, uow, operators, clock)
        return
    days = parse_period(command.args)
    if community is not None:
        await message.answer(await _stats_text(uow, community, days, clock))
        return
    assert message.from_user is not None
    operated = await operators.operated(bot, uow, message.from_user.id)
    if len(operated) == 1:
        await message.answer(await _stats_text(uow, operated[0], days, clock))
    elif operated:
        await message.answer(
            texts.choose_community(), reply_markup=keyboards.community_picker(operated, days)
        )
    else:
        await message.answer(texts.no_communities())


async def stats_for(
    query: CallbackQuery,
    callback_data: StatsChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    # Checked again for this very community: the button may be old or forged.
    if not await operators.is_operator(bot, callback_data.community_id, query.from_user.id):
        raise NotAnOperator()
    community = await uow.communities.get(callback_data.community_id)
    if community is None:
        await query.answer(texts.stale_button())
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(await _stats_text(uow, community, callback_data.days, clock))


async def _stats_text(uow: UnitOfWork, community: CommunityProfile, days: int, clock: Clock) -> str:
    """The figures of the ``days`` local days ending today, against the days before."""
    now = clock.now()
    today = local_day(now, community.timezone)
    figures = texts.stats(await reports.insight(uow, community, last=today, days=days, now=now))
    first = today - timedelta(days=days - 1)
    left = await exit_survey.departures(uow, community, first=first, last=today)
    lines = [figures, *exit_survey_texts.departures(left)]
    activated = await missions.stats_figures(uow, community, first=first, last=today, now=now)
    if activated is not None:
        lines += missions_texts.activation(activated)
    return "\n".join(lines)
