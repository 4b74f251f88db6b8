"""/mydata: a member reads everything Hearth holds about them, in private, as a text and
as a JSON file (services/my_data.py gathers it)."""

from __future__ import annotations

import json

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message

from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import my_data_texts as words
from hearth.handlers.filters import InGroup, InPrivate
from hearth.handlers.personal import start_link_markup
from hearth.services import my_data
from hearth.services.ports import UnitOfWork

FILENAME = "hearth-my-data.json"


def build() -> Router:
    router = Router(name="my_data")
    router.message.register(show, Command("mydata"), InPrivate())
    router.message.register(in_group, Command("mydata"), InGroup())
    return router


async def show(message: Message, member: MemberProfile | None, uow: UnitOfWork) -> None:
    if member is None:
        return
    data = await my_data.gather(uow, member)
    await message.answer(words.my_data(data))
    content = json.dumps(my_data.document(data), ensure_ascii=False, indent=2).encode("utf-8")
    await message.answer_document(
        BufferedInputFile(content, filename=FILENAME), caption=words.file_caption()
    )


async def in_group(message: Message, bot: Bot, community: CommunityProfile | None) -> None:
    markup = await start_link_markup(bot, community) if community is not None else None
    await message.reply(words.in_private(), reply_markup=markup)
