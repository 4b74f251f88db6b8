"""``/stats conversions [days] [kind]`` (operators; ``handlers/operators.py`` passes it on):
the conversions of the period by kind, and what the latest events, nudge campaigns and quiz
seasons were followed by (``services/attribution.py``). In the group it is about the group;
in private, about the operator's community (a picker asks when there are several).
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message

from hearth.domain.attribution import ReportRequest, report_request
from hearth.domain.calendar import local_day
from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile
from hearth.handlers import attribution_texts as words
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.private_answers import community_or_picker, picker_button
from hearth.services import attribution, channels
from hearth.services.ports import Clock, UnitOfWork

SUBCOMMAND = "conversions"  # /stats conversions
STATS_ACTION = "convstats_"  # picker buttons: "convstats_<days>[.<kind>]"


def build() -> Router:
    router = Router(name="attribution")
    picked = CommunityChoice.filter(F.action.startswith(STATS_ACTION))
    router.callback_query.register(stats_picked, picked, InPrivate(), IsOperator())
    router.callback_query.register(refuse_non_operator_button, picked)
    return router


def asks_for_conversions(arguments: str | None) -> bool:
    """Whether /stats was sent as ``/stats conversions …``."""
    first = (arguments or "").split()[:1]
    return [word.lower() for word in first] == [SUBCOMMAND]


def _request(arguments: str) -> ReportRequest:
    found = report_request(arguments)
    if found is None:
        raise InvalidArgument(words.usage())
    return found


def _action(request: ReportRequest) -> str:
    kind = "" if request.kind is None else f".{request.kind.value}"
    return f"{STATS_ACTION}{request.days}{kind}"


async def stats_conversions(
    message: Message,
    arguments: str | None,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    """/stats conversions [days] [service|purchase|trade_in]."""
    request = _request((arguments or "").strip()[len(SUBCOMMAND) :])
    where = community or await community_or_picker(
        message, bot, uow, operators, picker_button(_action(request))
    )
    if where is not None:
        for text in await _texts(uow, where, request, clock):
            await message.answer(text)


async def stats_picked(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    request = _request(callback_data.action.removeprefix(STATS_ACTION).replace(".", " "))
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    community, shown_on = chosen
    await query.answer()
    for text in await _texts(uow, community, request, clock):
        await shown_on.answer(text)


async def _texts(
    uow: UnitOfWork, community: CommunityProfile, request: ReportRequest, clock: Clock
) -> list[str]:
    today = local_day(clock.now(), community.timezone)
    found = await attribution.report(
        uow, community, days=request.days, today=today, kind=request.kind
    )
    return words.report(found, await _by_channel(uow, community, request, clock))


async def _by_channel(
    uow: UnitOfWork, community: CommunityProfile, request: ReportRequest, clock: Clock
) -> list[str]:
    """The period's conversions by channel (``services/channels``), as lines placed after
    the totals; none when the community has no channel in use."""
    found = await channels.report_if_any(
        uow,
        community,
        last=local_day(clock.now(), community.timezone),
        days=request.days,
        now=clock.now(),
    )
    return [] if found is None else words.by_channel(found, request.kind)
