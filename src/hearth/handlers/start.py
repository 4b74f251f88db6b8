"""/start in private: consent to private messages, and deep links into a community."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message, Update

from hearth.domain.members import Person
from hearth.handlers import texts
from hearth.handlers.filters import InPrivate
from hearth.services import members
from hearth.services.directory import Directory
from hearth.services.ports import Clock, UnitOfWork


def build() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart(), InPrivate())
    return router


async def start(
    message: Message,
    command: CommandObject,
    person: Person | None,
    uow: UnitOfWork,
    directory: Directory,
    clock: Clock,
    event_update: Update,
) -> None:
    if person is None:
        return
    result = await members.start_bot(
        uow,
        directory,
        person=person,
        payload=command.args,
        at=clock.now(),
        update_id=event_update.update_id,
    )
    await message.answer(
        texts.start_private(
            name=person.display_name,
            first_start=result.first_start,
            communities=[community.title for community in result.communities],
        )
    )
    if result.linked_community is not None:
        await message.answer(texts.linked_to(result.linked_community.title))
    elif result.unknown_link:
        await message.answer(texts.unknown_link())
