"""/settings: the member's language."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from hearth.domain.members import Person
from hearth.handlers import keyboards, texts
from hearth.handlers.callbacks import LanguageChoice
from hearth.services import members
from hearth.services.directory import Directory
from hearth.services.ports import UnitOfWork


def build() -> Router:
    router = Router(name="settings")
    router.message.register(show_settings, Command("settings"))
    router.callback_query.register(
        choose_language, LanguageChoice.filter(F.locale.in_(set(keyboards.LANGUAGE_NAMES)))
    )
    return router


async def show_settings(message: Message, locale: str) -> None:
    await message.answer(texts.settings_prompt(locale), reply_markup=keyboards.languages(locale))


async def choose_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    person: Person | None,
    uow: UnitOfWork,
    directory: Directory,
    i18n: I18n,
) -> None:
    if person is None:
        await query.answer()
        return
    await members.set_language(
        uow,
        directory,
        member_id=person.id,
        locale=callback_data.locale,
        available=frozenset(i18n.available_locales),
    )
    with i18n.use_locale(callback_data.locale):
        await query.answer(texts.language_changed())
        if isinstance(query.message, Message):
            await query.message.edit_text(
                texts.settings_prompt(callback_data.locale),
                reply_markup=keyboards.languages(callback_data.locale),
            )
