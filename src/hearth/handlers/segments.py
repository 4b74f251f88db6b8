"""Operators: /segments (members per lifecycle stage and RFM segment, as of the nightly
recompute), /tagged (the members with a tag), and the buttons that page through a list or
send it as a CSV file. Everything is answered in private; every button checks again that
the presser operates the community it names.
"""

from __future__ import annotations

import io
from datetime import date

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from hearth.domain.calendar import local_day
from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.domain.profile import tag_named
from hearth.domain.segments import ListKind, Selection
from hearth.handlers import segments_keyboards as buttons
from hearth.handlers import segments_texts as words
from hearth.handlers import texts
from hearth.handlers.callbacks import SegmentExport, SegmentList, SegmentsOf
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.private_answers import PrivateAnswer, PrivateRequest
from hearth.handlers.replies import replace_message
from hearth.services import export, segments
from hearth.services.directory import Directory
from hearth.services.ports import Clock, UnitOfWork


def build() -> Router:
    router = Router(name="segments")
    # The operator check runs after the command matched: other messages never pay for it.
    router.message.register(show_segments, Command("segments"), IsOperator())
    router.message.register(show_tagged, Command("tagged"), IsOperator())
    # Lists live in private chats only: a button under a group message is never answered.
    for handler, button in (
        (segments_of, SegmentsOf),
        (member_list, SegmentList),
        (list_file, SegmentExport),
    ):
        router.callback_query.register(handler, button.filter(), InPrivate(), IsOperator())
        router.callback_query.register(refuse_non_operator_button, button.filter(), ~IsOperator())
    return router


async def show_segments(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    directory: Directory,
) -> None:
    async def compose(where: CommunityProfile) -> PrivateAnswer:
        return PrivateAnswer(*await _overview(uow, where))

    request = PrivateRequest(message, bot, community, member, uow, directory)
    await request.answer(
        operators, "segments", lambda each: SegmentsOf(community_id=each.id), compose
    )


async def show_tagged(
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
    arguments = (command.args or "").split()
    name = tag_named(arguments[0]) if len(arguments) == 1 else None
    if name is None:
        raise InvalidArgument(words.tagged_usage())

    async def compose(where: CommunityProfile) -> PrivateAnswer:
        selection = Selection.of(ListKind.TAG, name)
        result = await segments.member_page(uow, where, selection, 0, today=_today(where, clock))
        return PrivateAnswer(words.member_page(result), buttons.page(result))

    request = PrivateRequest(message, bot, community, member, uow, directory)
    await request.answer(operators, "tagged", lambda each: buttons.tag_list(each, name), compose)


async def segments_of(
    query: CallbackQuery,
    callback_data: SegmentsOf,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
) -> None:
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    community, _shown = chosen
    await query.answer()
    text, markup = await _overview(uow, community)
    await replace_message(query, text, markup)


async def member_list(
    query: CallbackQuery,
    callback_data: SegmentList,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    found = await _chosen_selection(query, callback_data, bot, uow, operators)
    if found is None:
        return
    community, selection = found
    result = await segments.member_page(
        uow, community, selection, callback_data.page, today=_today(community, clock)
    )
    await query.answer()
    await replace_message(query, words.member_page(result), buttons.page(result))


async def list_file(
    query: CallbackQuery,
    callback_data: SegmentExport,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    found = await _chosen_selection(query, callback_data, bot, uow, operators)
    if found is None:
        return
    community, selection = found
    today = _today(community, clock)
    content = io.BytesIO()
    members = export.ExportKind.MEMBERS
    rows = await export.write(
        uow, community, members, export.ExportFormat.CSV, content, today=today, selection=selection
    )
    name = export.file_name(community, members, export.ExportFormat.CSV, today, selection)
    await query.answer()
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(content.getvalue(), filename=name),
        caption=words.list_caption(community.title, selection, rows),
    )


async def _chosen_selection(
    query: CallbackQuery,
    callback_data: SegmentList | SegmentExport,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
) -> tuple[CommunityProfile, Selection] | None:
    """The community (its operator checked again) and the selection a list button names;
    None, answered as stale, when it names nothing valid."""
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return None
    community, _shown = chosen
    selection = await segments.selection_for(
        uow, community, callback_data.kind, callback_data.value
    )
    if selection is None:
        await query.answer(texts.stale_button(), show_alert=True)
        return None
    return community, selection


async def _overview(
    uow: UnitOfWork, community: CommunityProfile
) -> tuple[str, InlineKeyboardMarkup | None]:
    summary = await segments.summary(uow, community)
    markup = buttons.overview(community, summary) if summary.computed_on else None
    return words.overview(community.title, summary), markup


def _today(community: CommunityProfile, clock: Clock) -> date:
    return local_day(clock.now(), community.timezone)
