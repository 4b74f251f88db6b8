"""Honour boards: /honour_new for operators; /report (in private, a photo as proof) and
/honour for members; Approve / Reject on the reports operators review."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from hearth.domain.errors import InvalidArgument
from hearth.domain.honour import (
    AmbiguousMetric,
    InvalidMetricSpec,
    InvalidMonth,
    InvalidReport,
    MetricExists,
    ReportSettled,
    UnknownMetric,
    UnknownReport,
    board_request,
    month_of,
    parse_metric_command,
    parse_report,
)
from hearth.domain.members import CommunityProfile, Person
from hearth.domain.rate_limits import OverLimit
from hearth.handlers import honour_texts, texts
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.honour_callbacks import BoardOf, ReportDecision, board_buttons
from hearth.handlers.personal import operated_community
from hearth.handlers.replies import redirect
from hearth.services import honour
from hearth.services.ports import Clock, HonourNotices, UnitOfWork

_LOOKUP_REFUSALS = (UnknownMetric, AmbiguousMetric, InvalidMonth)
_REPORT_REFUSALS = (*_LOOKUP_REFUSALS, InvalidReport, OverLimit)
_DECISION_REFUSALS = (UnknownReport, ReportSettled)


def build() -> Router:
    router = Router(name="honour")
    router.message.register(new_metric, Command("honour_new"), IsOperator())
    router.message.register(
        redirect(lambda _command: honour_texts.report_in_private()), Command("report"), InGroup()
    )
    router.message.register(report, Command("report"), InPrivate())
    router.message.register(show_honour, Command("honour"))
    router.callback_query.register(board_of, BoardOf.filter())
    router.callback_query.register(decide, ReportDecision.filter(), IsOperator())
    # Whoever presses this and is not an operator (commands fall through to the fallback).
    router.callback_query.register(refuse_non_operator_button, ReportDecision.filter())
    return router


# -- operators


async def new_metric(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    try:
        draft = parse_metric_command(command.args)  # refused before anything else
    except InvalidMetricSpec as error:
        raise InvalidArgument(honour_texts.invalid_metric(error)) from None
    where = await operated_community(message, bot, community, uow, operators)
    if where is None or person is None:
        return
    try:
        metric = await honour.create_metric(
            uow, community=where, draft=draft, actor_id=person.id, now=clock.now()
        )
    except MetricExists as error:
        await message.answer(honour_texts.refusal(error, clock.now()))
        return
    await message.answer(honour_texts.metric_created(metric, where.title))


async def decide(
    query: CallbackQuery,
    callback_data: ReportDecision,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    honour_notices: HonourNotices,
    clock: Clock,
) -> None:
    actor_id = query.from_user.id
    operated = {community.id for community in await operators.operated(bot, uow, actor_id)}
    try:
        decided = await honour.decide(
            uow,
            honour_notices,
            callback_data.report_id,
            approve=callback_data.approve,
            actor_id=actor_id,
            operated=operated,
            now=clock.now(),
        )
    except _DECISION_REFUSALS as error:
        await query.answer(honour_texts.refusal(error, clock.now()), show_alert=True)
        return
    await query.answer(honour_texts.decided(decided.report.status, decided.report, decided.metric))
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):  # gone, or its buttons were taken off already
            await query.message.edit_reply_markup(reply_markup=None)


# -- members


async def report(
    message: Message,
    command: CommandObject,
    person: Person | None,
    uow: UnitOfWork,
    honour_notices: HonourNotices,
    clock: Clock,
) -> None:
    if person is None:
        return
    try:
        draft = parse_report(command.args)
    except InvalidReport as error:
        raise InvalidArgument(honour_texts.refusal(error, clock.now())) from None
    try:
        reported = await honour.submit_report(
            uow,
            honour_notices,
            member_id=person.id,
            draft=draft,
            photo=message.photo[-1].file_id if message.photo else None,
            message_id=message.message_id,
            now=clock.now(),
        )
    except _REPORT_REFUSALS as error:
        await message.answer(await _refusal(uow, person.id, error, clock))
        return
    await message.answer(
        honour_texts.reported(reported.report, reported.metric, replayed=reported.replayed)
    )


async def show_honour(
    message: Message,
    command: CommandObject,
    community: CommunityProfile | None,
    person: Person | None,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    if person is None:
        return
    communities = [community] if community else await uow.memberships.communities_of(person.id)
    if not communities:
        await message.answer(texts.no_community())
        return
    now = clock.now()
    try:
        reference, month = board_request(command.args)
        if not reference:
            metrics = await honour.metrics_of(uow, communities)
            zones = {each.id: each.timezone for each in communities}
            # Buttons in private only: each tap answers with a board, too much for a group.
            tappable = community is None
            await message.answer(
                honour_texts.boards(
                    metrics, {each.id: each.title for each in communities}, tappable=tappable
                ),
                reply_markup=board_buttons(
                    [
                        (metric, month or month_of(now, zones[metric.community_id]))
                        for metric in metrics
                    ]
                )
                if tappable
                else None,
            )
            return
        metric = await honour.find_metric(uow, reference, communities)
    except _LOOKUP_REFUSALS as error:
        await message.answer(await _refusal(uow, person.id, error, clock))
        return
    where = next(each for each in communities if each.id == metric.community_id)
    shown = await honour.board(uow, metric, month or month_of(now, where.timezone))
    await message.answer(honour_texts.board(shown, where.title))


async def board_of(query: CallbackQuery, callback_data: BoardOf, uow: UnitOfWork) -> None:
    metric = await uow.honour.metric(callback_data.metric_id)
    communities = {
        each.id: each for each in await uow.memberships.communities_of(query.from_user.id)
    }
    if metric is None or not metric.active or metric.community_id not in communities:
        await query.answer(texts.stale_button(), show_alert=True)  # old, forged or not theirs
        return
    shown = await honour.board(uow, metric, callback_data.month)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            honour_texts.board(shown, communities[metric.community_id].title)
        )


async def _refusal(uow: UnitOfWork, member_id: int, error: Exception, clock: Clock) -> str:
    assert isinstance(error, _REPORT_REFUSALS)
    titles = None
    if isinstance(error, AmbiguousMetric):
        titles = {each.id: each.title for each in await uow.memberships.communities_of(member_id)}
    return honour_texts.refusal(error, clock.now(), titles)
