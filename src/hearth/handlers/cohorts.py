"""/cohorts: retention by join week, as a table and a heat map, for operators in private.

The figures are the community's own: sent in the group, the command is answered in the
operator's private chat and the group only hears where to look; an operator the bot
cannot write to yet is told to open the private chat first, and shown nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from hearth.domain.calendar import local_day
from hearth.domain.cohorts import DEFAULT_COHORTS, MAX_COHORTS, RetentionTable
from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import digest_texts
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.filters import IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.private_answers import PrivateRequest, picker_button
from hearth.services import charts
from hearth.services.cohorts import retention_table
from hearth.services.directory import Directory
from hearth.services.ports import Clock, UnitOfWork

ACTION = "cohorts_"  # picker buttons: "cohorts_<weeks>"


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered chart: ``name`` (active, stages, cohorts) names its file and outbox key."""

    name: str
    caption: str
    png: bytes

    @property
    def filename(self) -> str:
        return f"{self.name}.png"


@dataclass(frozen=True, slots=True)
class Report:
    """What an operator's private report sends: a text, then its charts as photos."""

    text: str
    charts: Sequence[Chart]

    async def send(self, bot: Bot, chat_id: int) -> None:
        await bot.send_message(chat_id, self.text)
        for chart in self.charts:
            await bot.send_photo(
                chat_id,
                BufferedInputFile(chart.png, filename=chart.filename),
                caption=chart.caption,
            )


def build() -> Router:
    router = Router(name="cohorts")
    router.message.register(cohorts, Command("cohorts"), IsOperator())
    router.callback_query.register(
        cohorts_chosen, CommunityChoice.filter(F.action.startswith(ACTION))
    )
    return router


def parse_cohorts(argument: str | None) -> int:
    """How many join weeks ``/cohorts [weeks]`` asks for: 1 to MAX_COHORTS, default 8."""
    if not argument or not argument.strip():
        return DEFAULT_COHORTS
    word = argument.strip()
    if not word.isascii() or not word.isdigit() or not 1 <= int(word) <= MAX_COHORTS:
        raise InvalidArgument(digest_texts.cohorts_usage())
    return int(word)


async def cohorts(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    directory: Directory,
    clock: Clock,
) -> None:
    weeks = parse_cohorts(command.args)

    async def compose(where: CommunityProfile) -> Report:
        return await cohort_report(uow, where, weeks, clock)

    request = PrivateRequest(message, bot, community, member, uow, directory)
    await request.answer(operators, "cohorts", picker_button(f"{ACTION}{weeks}"), compose)


async def cohorts_chosen(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    weeks = parse_cohorts(callback_data.action.removeprefix(ACTION))
    await query.answer()
    report = await cohort_report(uow, chosen[0], weeks, clock)
    await report.send(bot, query.from_user.id)


async def cohort_report(
    uow: UnitOfWork, community: CommunityProfile, weeks: int, clock: Clock
) -> Report:
    today = local_day(clock.now(), community.timezone)
    table = await retention_table(uow, community, today, weeks)
    await uow.commit()  # the roll-up was refreshed: release the write lock before drawing
    return Report(digest_texts.cohorts_text(community.title, table), [heat_map(table, community)])


def heat_map(table: RetentionTable, community: CommunityProfile) -> Chart:
    """The retention table as a heat map, in the current language."""
    return Chart(
        "cohorts",
        digest_texts.chart_caption(community.title, "cohorts", table.weeks),
        charts.retention_heatmap_png(table, digest_texts.retention_chart(table)),
    )
