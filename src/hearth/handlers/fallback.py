"""What nothing else handled in private, and buttons nobody recognises."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from hearth.handlers import texts
from hearth.handlers.callbacks import AdjustmentAnswer, StatsChoice
from hearth.handlers.filters import InPrivate, IsOperator


def build() -> Router:
    router = Router(name="fallback")
    # Operator commands and buttons that reached this far came from someone who is not one.
    router.message.register(
        refuse_non_operator, Command(*(name for name, _ in texts.OPERATOR_COMMANDS))
    )
    for operator_button in (StatsChoice, AdjustmentAnswer):
        router.callback_query.register(
            refuse_non_operator_button, operator_button.filter(), ~IsOperator()
        )
    router.message.register(unknown_private_message, InPrivate())
    router.callback_query.register(unknown_button)
    return router


async def refuse_non_operator(message: Message) -> None:
    await message.reply(texts.not_an_operator())


async def refuse_non_operator_button(query: CallbackQuery) -> None:
    await query.answer(texts.not_an_operator(), show_alert=True)


async def unknown_private_message(message: Message) -> None:
    await message.answer(texts.unknown_private_message())


async def unknown_button(query: CallbackQuery) -> None:
    # Old, forged or malformed callback data: say so, change nothing.
    await query.answer(texts.stale_button(), show_alert=True)
