"""/export members|activity|points|events|conversions [csv|xlsx] [phones]: a community's
data as a file, sent to the operator in private as a document; in a group it is never
posted. Phone numbers members shared are in it only when the operator adds "phones" (to a
members or conversions export), and such an export is audited.
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
from hearth.handlers.callbacks import ExportOf, ExportWithPhonesOf
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
    for picked in (ExportOf, ExportWithPhonesOf):
        router.callback_query.register(export_of, picked.filter(), InPrivate(), IsOperator())
        router.callback_query.register(refuse_non_operator_button, picked.filter(), ~IsOperator())
    return router


def parse_export(arguments: str | None) -> tuple[ExportKind, ExportFormat, bool]:
    """What to export, how, and whether with phone numbers, from "members", "points xlsx",
    "conversions xlsx phones", …; CSV and no phone numbers unless told."""
    words_given = (arguments or "").lower().split()
    phones = "phones" in words_given
    if phones:
        words_given.remove("phones")
    try:
        what = ExportKind(words_given[0]) if words_given else None
        if what is not None and (not phones or what in export.PHONE_KINDS):
            if len(words_given) == 1:
                return what, ExportFormat.CSV, phones
            if len(words_given) == 2:
                return what, ExportFormat(words_given[1]), phones
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
    what, file_format, phones = parse_export(command.args)
    assert message.from_user is not None
    actor = message.from_user.id

    async def compose(where: CommunityProfile) -> PrivateAnswer:
        text, document = await _export(uow, where, what, file_format, clock, phones, actor)
        return PrivateAnswer(text, document=document)

    request = PrivateRequest(message, bot, community, member, uow, directory)
    await request.answer(
        operators,
        "export",
        lambda each: (ExportWithPhonesOf if phones else ExportOf)(
            community_id=each.id, what=what, file_format=file_format
        ),
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
    phones = isinstance(callback_data, ExportWithPhonesOf)
    if phones and callback_data.what not in export.PHONE_KINDS:  # forged: no such button
        await query.answer(texts.stale_button(), show_alert=True)
        return
    text, document = await _export(
        uow,
        community,
        callback_data.what,
        callback_data.file_format,
        clock,
        phones,
        query.from_user.id,
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
    phones: bool,
    actor_id: int,
) -> tuple[str, BufferedInputFile | None]:
    """The file and its caption; no file, and what to do instead, past Telegram's limit.
    An export ``phones`` holds the numbers members shared, and is audited as such."""
    today = local_day(clock.now(), community.timezone)
    content = io.BytesIO()
    megabytes = -(-MAX_DOCUMENT_BYTES // (1024 * 1024))
    too_large = words.export_too_large(megabytes, community.id, what)
    try:
        rows = await export.write(
            uow,
            community,
            what,
            file_format,
            content,
            today=today,
            max_bytes=MAX_DOCUMENT_BYTES,
            with_phones=phones,
        )
    except export.ExportTooLarge:
        return too_large, None
    if content.getbuffer().nbytes > MAX_DOCUMENT_BYTES:
        return too_large, None
    document = BufferedInputFile(
        content.getvalue(), filename=export.file_name(community, what, file_format, today)
    )
    caption = words.export_caption(community.title, what, rows)
    if phones:
        await export.audit_phones(
            uow, community, what, rows, actor_id=actor_id, via="bot", now=clock.now()
        )
        caption += "\n" + words.export_with_phones()
    return caption, document
