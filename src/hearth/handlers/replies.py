"""Reply shapes several features share: a button answered by rewriting its message, a
command sent in the wrong chat, a dialog stopped by /cancel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def replace_message(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Answer a button by replacing the message it sits on (and its buttons)."""
    if not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:  # a second press finds the message as it should be
        if "not modified" not in error.message:
            raise


def redirect(where: Callable[[str], str]) -> Callable[[Message, CommandObject], Awaitable[None]]:
    """A handler that replies with ``where(command)``: where to send the command instead."""

    async def reply_where(message: Message, command: CommandObject) -> None:
        await message.reply(where(command.command))

    return reply_where


def dialog_cancel(said: Callable[[], str]) -> Callable[[Message, FSMContext], Awaitable[None]]:
    """A /cancel handler: forget the dialog's answers and say ``said()``."""

    async def cancel(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(said())

    return cancel
