"""What nothing else handled in private, and buttons nobody recognises."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from hearth.handlers import texts
from hearth.handlers.filters import InPrivate


def build() -> Router:
    router = Router(name="fallback")
    router.message.register(unknown_private_message, InPrivate())
    router.callback_query.register(unknown_button)
    return router


async def unknown_private_message(message: Message) -> None:
    await message.answer(texts.unknown_private_message())


async def unknown_button(query: CallbackQuery) -> None:
    # Old, forged or malformed callback data: say so, change nothing.
    await query.answer(texts.stale_button(), show_alert=True)
