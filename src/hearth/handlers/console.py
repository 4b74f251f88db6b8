"""/console in private: an operator's one-time sign-in link to the web console."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from hearth.domain.members import Person
from hearth.handlers import console_texts as words
from hearth.handlers.filters import InGroup, InPrivate, IsOperator
from hearth.handlers.replies import redirect
from hearth.services import console
from hearth.services.console import ConsoleAccess
from hearth.services.ports import Clock, UnitOfWork


def build() -> Router:
    router = Router(name="console")
    # Non-operators' /console falls through to the fallback's refusal.
    router.message.register(console_link, Command("console"), InPrivate(), IsOperator())
    # The link is personal: an operator who asks in the group is sent to the private chat.
    router.message.register(
        redirect(lambda _command: words.in_private()), Command("console"), InGroup(), IsOperator()
    )
    return router


async def console_link(
    message: Message,
    person: Person | None,
    uow: UnitOfWork,
    clock: Clock,
    console_access: ConsoleAccess | None = None,
) -> None:
    if person is None:
        return
    if console_access is None:
        await message.answer(words.not_set_up())
        return
    token = await console.issue_link(uow, console_access.keys, person.id, clock.now())
    button = InlineKeyboardButton(text=words.open_button(), url=console_access.link(token))
    await message.answer(
        words.link(), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
    )
