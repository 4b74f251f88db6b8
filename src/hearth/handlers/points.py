"""/points and /top: a member's balance, tier and expiring points; the leaderboards."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from hearth.domain.calendar import local_day, start_of_local_day
from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, MemberProfile, Person
from hearth.handlers import texts
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.personal import (
    Acknowledger,
    answer_personally,
    chosen_community,
    only_community,
)
from hearth.services import points
from hearth.services.directory import Directory
from hearth.services.points import rules_of
from hearth.services.ports import Clock, UnitOfWork

PERIODS = ("week", "month", "all")


def build() -> Router:
    router = Router(name="points")
    router.message.register(show_points, Command("points"))
    router.message.register(show_top, Command("top"))
    router.callback_query.register(
        chosen,
        CommunityChoice.filter(F.action.in_({"points", *(f"top_{p}" for p in PERIODS)})),
    )
    return router


def period_start(period: str, now: datetime, timezone: str) -> datetime | None:
    """Where a leaderboard period begins: this local week (Monday), month, or never."""
    today = local_day(now, timezone)
    if period == "week":
        return start_of_local_day(today - timedelta(days=today.weekday()), timezone)
    if period == "month":
        return start_of_local_day(today.replace(day=1), timezone)
    return None


def parse_period(argument: str | None) -> str:
    period = (argument or "month").strip().lower()
    if period not in PERIODS:
        raise InvalidArgument(texts.top_usage())
    return period


async def _summary_text(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, clock: Clock
) -> str:
    summary = await points.summary(
        uow,
        community.id,
        member_id,
        now=clock.now(),
        rules=rules_of(community),
        timezone=community.timezone,
    )
    return texts.points_summary(community.title, summary, community.timezone)


async def _top_text(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, period: str, clock: Clock
) -> str:
    since = period_start(period, clock.now(), community.timezone)
    board = await points.leaderboard(uow, community.id, member_id, since=since)
    return texts.leaderboard(board, period)


async def show_points(
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
    if person is None:
        return
    if community is not None:
        text = await _summary_text(uow, community, person.id, clock)
        await answer_personally(
            message,
            text,
            bot=bot,
            member=member,
            community=community,
            uow=uow,
            directory=directory,
            acks=acks,
        )
        return
    await _for_each_community(message, uow, person.id, "points", clock)


async def show_top(
    message: Message,
    command: CommandObject,
    community: CommunityProfile | None,
    person: Person | None,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    if person is None:
        return
    period = parse_period(command.args)
    if community is not None:  # a leaderboard is for everyone: it is answered in the group
        await message.answer(await _top_text(uow, community, person.id, period, clock))
        return
    await _for_each_community(message, uow, person.id, f"top_{period}", clock)


async def _for_each_community(
    message: Message, uow: UnitOfWork, member_id: int, action: str, clock: Clock
) -> None:
    """In private: answer for the member's only community, or let them pick one."""
    community = await only_community(message, uow, member_id, action)
    if community is not None:
        await message.answer(await _action_text(uow, community, member_id, action, clock))


async def _action_text(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, action: str, clock: Clock
) -> str:
    if action == "points":
        return await _summary_text(uow, community, member_id, clock)
    return await _top_text(uow, community, member_id, action.removeprefix("top_"), clock)


async def chosen(
    query: CallbackQuery, callback_data: CommunityChoice, uow: UnitOfWork, clock: Clock
) -> None:
    member_id = query.from_user.id
    community = await chosen_community(query, uow, callback_data.community_id)
    if community is None:
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            await _action_text(uow, community, member_id, callback_data.action, clock)
        )
