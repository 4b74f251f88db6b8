"""/help: what really exists, with operator commands for operators."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message

from hearth.handlers import texts
from hearth.handlers.filters import IsOperator, OperatorDirectory
from hearth.services.ports import UnitOfWork


def build() -> Router:
    router = Router(name="help")
    router.message.register(show_help, Command("help"))
    return router


async def show_help(
    message: Message, bot: Bot, operators: OperatorDirectory, uow: UnitOfWork
) -> None:
    is_operator = await IsOperator()(
        message,
        bot=bot,
        operators=operators,
        uow=uow,
        event_from_user=message.from_user,
        event_chat=message.chat,
    )
    for part in texts.help_messages(is_operator=is_operator):
        await message.answer(part)
