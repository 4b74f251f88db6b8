"""/import_conversions: an operator sends the business's CSV of service visits, purchases
and trade-ins in private — as a document with this caption, or the document right after the
command — and reads the import's report (``services/conversions``).

An operator of several communities picks one first; a file sent before the pick waits in
their conversation state (its Telegram file id only) until they press a button.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from hearth.domain.conversion_files import MAX_FILE_BYTES, UnreadableConversionFile
from hearth.domain.members import CommunityProfile
from hearth.handlers import conversions_texts as words
from hearth.handlers import texts
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.documents import document_bytes
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.private_answers import community_or_picker, picker_button
from hearth.handlers.replies import redirect, replace_message
from hearth.services import conversions
from hearth.services.ports import Clock, ConversionNotices, UnitOfWork

ACTION = "conv_import"  # the community picker's buttons
_COMMUNITY = "conversions_community"  # state keys: the community picked …
_FILE = "conversions_file"  # … or the file waiting for the pick (id and name)


class ConversionImport(StatesGroup):
    waiting = State()  # for the file, or for the pick of the community of a file


class WithDocument(Filter):
    """A message carrying a document (async: kept off aiogram's filter thread)."""

    async def __call__(self, message: Message) -> bool:
        return message.document is not None


def build() -> Router:
    router = Router(name="conversions")
    command = Command("import_conversions")
    # Non-operators' /import_conversions reaches the fallback's refusal.
    router.message.register(file_with_command, command, WithDocument(), InPrivate(), IsOperator())
    router.message.register(ask_for_file, command, InPrivate(), IsOperator())
    router.message.register(
        redirect(lambda _command: words.in_private()), command, InGroup(), IsOperator()
    )
    waiting = ConversionImport.waiting
    router.message.register(cancel, Command("cancel"), waiting, InPrivate())
    router.message.register(file_sent, waiting, WithDocument(), InPrivate(), IsOperator())
    chosen = CommunityChoice.filter(F.action == ACTION)
    router.callback_query.register(picked, chosen, InPrivate(), IsOperator())
    router.callback_query.register(refuse_non_operator_button, chosen)
    return router


async def file_with_command(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
    conversion_notices: ConversionNotices | None = None,
) -> None:
    pending = _pending(message)
    community = await community_or_picker(message, bot, uow, operators, picker_button(ACTION))
    if community is None:  # the picker's button imports the file
        await _wait(state, {_FILE: pending, _COMMUNITY: None})
        return
    await _forget(state)
    text = await _import(bot, uow, community, pending, message, clock, conversion_notices)
    await message.answer(text)


async def ask_for_file(
    message: Message, bot: Bot, uow: UnitOfWork, operators: OperatorDirectory, state: FSMContext
) -> None:
    community = await community_or_picker(message, bot, uow, operators, picker_button(ACTION))
    await _wait(state, {_FILE: None, _COMMUNITY: community.id if community else None})
    if community is not None:
        await message.answer(words.prompt(community.title))


async def file_sent(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
    conversion_notices: ConversionNotices | None = None,
) -> None:
    """The document after /import_conversions (no caption needed)."""
    assert message.from_user is not None
    picked_id = (await state.get_data()).get(_COMMUNITY)
    community = next(
        (
            each
            for each in await operators.operated(bot, uow, message.from_user.id)
            if each.id == picked_id
        ),
        None,
    )
    if community is None:  # not picked yet (or no longer operated): as with the caption
        await file_with_command(message, bot, uow, operators, state, clock, conversion_notices)
        return
    await _forget(state)
    pending = _pending(message)
    await message.answer(
        await _import(bot, uow, community, pending, message, clock, conversion_notices)
    )


async def picked(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
    conversion_notices: ConversionNotices | None = None,
) -> None:
    # Checked for this very community: the button may be old or forged.
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    community, _shown = chosen
    await query.answer()
    await replace_message(query, f"{texts.choose_community()} {texts.quote(community.title)}", None)
    pending = (await state.get_data()).get(_FILE)
    if not isinstance(pending, dict):
        await _wait(state, {_FILE: None, _COMMUNITY: community.id})
        await bot.send_message(query.from_user.id, words.prompt(community.title))
        return
    await _forget(state)
    text = await _import(bot, uow, community, pending, query, clock, conversion_notices)
    await bot.send_message(query.from_user.id, text)


async def cancel(message: Message, state: FSMContext) -> None:
    await _forget(state)
    await message.answer(words.cancelled())


async def _import(
    bot: Bot,
    uow: UnitOfWork,
    community: CommunityProfile,
    pending: dict[str, Any],
    asked: Message | CallbackQuery,
    clock: Clock,
    notices: ConversionNotices | None,
) -> str:
    """Download and import the file ``pending`` names; the answer to send."""
    assert asked.from_user is not None
    name = str(pending.get("name") or "")
    if not name.lower().endswith(".csv"):
        return words.not_csv()
    too_big = int(pending.get("size") or 0) > MAX_FILE_BYTES
    content = None if too_big else await document_bytes(bot, str(pending["id"]), MAX_FILE_BYTES)
    if content is None:
        return words.file_too_big()
    try:
        report = await conversions.import_conversions(
            uow,
            community,
            content,
            now=clock.now(),
            actor=asked.from_user.id,
            notices=notices,
            file_name=name,
        )
    except UnreadableConversionFile as unreadable:
        return words.unreadable(unreadable)
    return words.report(report, community.title)


def _pending(message: Message) -> dict[str, Any]:
    """What the state keeps of a file until it is imported: its id, name and size."""
    assert message.document is not None
    document = message.document
    return {"id": document.file_id, "name": document.file_name or "", "size": document.file_size}


async def _wait(state: FSMContext, data: dict[str, Any]) -> None:
    await state.set_state(ConversionImport.waiting)
    await state.update_data(data)


async def _forget(state: FSMContext) -> None:
    """Out of the import's state; other features' keys in the state stay."""
    await state.set_state(None)
    await state.update_data({_FILE: None, _COMMUNITY: None})
