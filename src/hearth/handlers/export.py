"""/export members|activity|points|events [csv|xlsx]: a community's data as a file, sent to
the operator in private as a document; in a group it is never posted.
"""

from __future__ import annotations

import io

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from hearth.domain.calendar import local_day
from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import segments_texts as words
from hearth.handlers import texts
from hearth.handlers.callbacks import ExportOf
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.private_answers import PrivateAnswer, PrivateRequest
from hearth.handlers.replies import replace_message
from hearth.services import export
from hearth.services.directory import Directory
from hearth.services.export import ExportFormat, ExportKind
from hearth.services.ports import Clock, UnitOfWork

# Telegram takes documents of up to 50 MB from bots.
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024


def build() -> Router:
    router = Router(name="export")
    router.message.register(export_command, Command("export"), IsOperator())
    router.callback_query.register(export_of, ExportOf.filter(), InPrivate(), IsOperator())
    router.callback_query.register(refuse_non_operator_button, ExportOf.filter(), ~IsOperator())
    return router


def parse_export(arguments: str | None) -> tuple[ExportKind, ExportFormat]:
    """What to export and how, from "members", "points xlsx", …; CSV unless told."""
    words_given = (arguments or "").lower().split()
    try:
        if len(words_given) == 1:
            return ExportKind(words_given[0]), ExportFormat.CSV
        if len(words_given) == 2:
            return ExportKind(words_given[0]), ExportFormat(words_given[1])
    except ValueError:
        pass
    raise InvalidArgument(words.export_usage())


async def export_command(
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
    what, file_format = parse_export(command.args)

    async def compose(where: CommunityProfile) -> PrivateAnswer:
        text, document = await _export(uow, where, what, file_format, clock)
        return PrivateAnswer(text, document=document)

    request = PrivateRequest(message, bot, community, member, uow, directory)
    await request.answer(
        operators,
        "export",
        lambda each: ExportOf(community_id=each.id, what=what, file_format=file_format),
        compose,
    )


async def export_of(
    query: CallbackQuery,
    callback_data: ExportOf,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    community, _shown = chosen
    text, document = await _export(
        uow, community, callback_data.what, callback_data.file_format, clock
    )
    await query.answer()
    await replace_message(query, f"{texts.choose_community()} {texts.quote(community.title)}", None)
    await PrivateAnswer(text, document=document).send(bot, query.from_user.id)


async def _export(
    uow: UnitOfWork,
    community: CommunityProfile,
    what: ExportKind,
    file_format: ExportFormat,
    clock: Clock,
) -> tuple[str, BufferedInputFile | None]:
    """The file and its caption; no file, and what to do instead, past Telegram's limit."""
    today = local_day(clock.now(), community.timezone)
    content = io.BytesIO()
    megabytes = -(-MAX_DOCUMENT_BYTES // (1024 * 1024))
    too_large = words.export_too_large(megabytes, community.id, what)
    try:
        rows = await export.write(
            uow, community, what, file_format, content, today=today, max_bytes=MAX_DOCUMENT_BYTES
        )
    except export.ExportTooLarge:
        return too_large, None
    if content.getbuffer().nbytes > MAX_DOCUMENT_BYTES:
        return too_large, None
    document = BufferedInputFile(
        content.getvalue(), filename=export.file_name(community, what, file_format, today)
    )
    return words.export_caption(community.title, what, rows), document
