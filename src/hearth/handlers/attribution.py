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
from hearth.handlers.private_answers import answer_picked_report, answer_report
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
    request_words: str,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    """/stats conversions [days] [service|purchase|trade_in] (``request_words``: the words
    after "conversions")."""
    request = _request(request_words)
    await answer_report(
        message,
        bot,
        community,
        uow,
        operators,
        _action(request),
        lambda where: _texts(uow, where, request, clock),
    )


async def stats_picked(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    request = _request(callback_data.action.removeprefix(STATS_ACTION).replace(".", " "))
    await answer_picked_report(
        query,
        bot,
        uow,
        operators,
        callback_data.community_id,
        lambda community: _texts(uow, community, request, clock),
    )


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
