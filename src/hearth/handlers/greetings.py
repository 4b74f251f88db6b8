"""Greetings: /greetings on|off (opt-in) and /birthday MM-DD|off, in private."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from hearth.domain.errors import InvalidArgument
from hearth.domain.greetings import Birthday, InvalidBirthday, parse_birthday
from hearth.domain.members import Person
from hearth.handlers import announcements_texts as words
from hearth.handlers import texts
from hearth.handlers.filters import InGroup, InPrivate
from hearth.handlers.replies import redirect
from hearth.handlers.switches import on_or_off
from hearth.services import greetings
from hearth.services.ports import Clock, UnitOfWork


def build() -> Router:
    router = Router(name="greetings")
    router.message.register(switch_greetings, Command("greetings"), InPrivate())
    router.message.register(birthday, Command("birthday"), InPrivate())
    router.message.register(in_private_only, Command("greetings", "birthday"), InGroup())
    return router


async def switch_greetings(
    message: Message,
    command: CommandObject,
    person: Person | None,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    if person is None:
        return
    enabled = on_or_off(command, words.greetings_usage)
    communities = await greetings.set_greetings(
        uow, member_id=person.id, enabled=enabled, now=clock.now()
    )
    if not communities:
        await message.answer(texts.no_community())
        return
    known = await greetings.birthday_of(uow, person.id)
    await message.answer(words.greetings_changed(enabled, known is not None))


async def birthday(
    message: Message,
    command: CommandObject,
    person: Person | None,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    if person is None:
        return
    argument = (command.args or "").strip()
    if not argument:
        await message.answer(words.birthday_is(await greetings.birthday_of(uow, person.id)))
        return
    day: Birthday | None = None
    if argument.lower() != "off":
        try:
            day = parse_birthday(argument)
        except InvalidBirthday:
            raise InvalidArgument(words.birthday_usage()) from None
    greetings_on = await greetings.set_birthday(
        uow, member_id=person.id, birthday=day, now=clock.now()
    )
    await message.answer(words.birthday_saved(day, greetings_on=greetings_on))


in_private_only = redirect(words.in_private)
