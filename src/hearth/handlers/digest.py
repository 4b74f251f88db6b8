"""/digest: a preview of the weekly digest, now, in private; /digest on|off in the group
turns the weekly digest of that community on or off."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, Message

from hearth.domain.calendar import local_day
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import digest_texts, switches
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.cohorts import Chart, Report, heat_map
from hearth.handlers.filters import IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.private_answers import PrivateRequest, picker_button
from hearth.services import charts, communities, digest
from hearth.services.digest import Digest, DigestCharts
from hearth.services.directory import Directory
from hearth.services.ports import Clock, UnitOfWork

ACTION = "digest"  # the picker's buttons


class Bare(Filter):
    """The command came without arguments (``/digest`` rather than ``/digest on``)."""

    async def __call__(self, message: Message, command: CommandObject) -> bool:
        return not (command.args or "").strip()


def build() -> Router:
    router = Router(name="digest")
    # First the preview: "/digest on|off" falls through to the switch.
    router.message.register(preview, Command("digest"), Bare(), IsOperator())
    switches.register(
        router,
        switches.Switch(
            "digest", communities.set_digest, digest_texts.digest_usage, digest_texts.digest_changed
        ),
    )
    router.callback_query.register(preview_chosen, CommunityChoice.filter(F.action == ACTION))
    return router


async def preview(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    directory: Directory,
    clock: Clock,
) -> None:
    async def compose(where: CommunityProfile) -> Report:
        return digest_report(await _compose_now(uow, where, clock), preview=True)

    request = PrivateRequest(message, bot, community, member, uow, directory)
    await request.answer(operators, "digest", picker_button(ACTION), compose)


async def preview_chosen(
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
    await query.answer()
    report = digest_report(await _compose_now(uow, chosen[0], clock), preview=True)
    await report.send(bot, query.from_user.id)


async def _compose_now(uow: UnitOfWork, community: CommunityProfile, clock: Clock) -> Digest:
    now = clock.now()
    composed = await digest.compose(uow, community, local_day(now, community.timezone), now)
    await uow.commit()  # the roll-up was refreshed: release the write lock before drawing
    return composed


def digest_report(composed: Digest, *, preview: bool = False) -> Report:
    """The digest's text and charts in the current language."""
    return Report(
        digest_texts.digest_text(composed, preview=preview),
        chart_images(composed.charts, composed.community),
    )


def chart_images(series: DigestCharts, community: CommunityProfile) -> list[Chart]:
    """The digest's three charts in the current language: members active per day, members
    per lifecycle stage per day, retention by join week."""
    weeks = len(series.days) // 7
    title = community.title
    return [
        Chart(
            "active",
            digest_texts.chart_caption(title, "active", weeks),
            charts.daily_active_png(series.days, series.active, digest_texts.active_chart()),
        ),
        Chart(
            "stages",
            digest_texts.chart_caption(title, "stages", weeks),
            charts.stage_stack_png(
                series.days, series.stages, digest_texts.stage_names(), digest_texts.stages_chart()
            ),
        ),
        heat_map(series.retention, community),
    ]
