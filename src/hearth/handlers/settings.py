"""/settings: the member's language, nudges on or off, and their quiet hours."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from hearth.domain.members import Person
from hearth.domain.nudges import QUIET_HOURS_CHOICES, NudgePreference
from hearth.handlers import keyboards, nudges_texts, texts
from hearth.handlers.callbacks import LanguageChoice, NudgeChoice, NudgeSetting
from hearth.handlers.replies import replace_message
from hearth.services import members, nudge_choices
from hearth.services.directory import Directory
from hearth.services.ports import Clock, UnitOfWork


def build() -> Router:
    router = Router(name="settings")
    router.message.register(show_settings, Command("settings"))
    router.callback_query.register(
        choose_language, LanguageChoice.filter(F.locale.in_(set(keyboards.LANGUAGE_NAMES)))
    )
    router.callback_query.register(choose_nudges, NudgeChoice.filter())
    return router


def _settings(locale: str, preference: NudgePreference | None) -> str:
    prompt = texts.settings_prompt(locale)
    if preference is None:
        return prompt
    return f"{prompt}\n\n{nudges_texts.settings_lines(preference)}"


async def show_settings(
    message: Message, locale: str, person: Person | None, uow: UnitOfWork
) -> None:
    preference = await uow.nudges.preference(person.id) if person is not None else None
    await message.answer(
        _settings(locale, preference), reply_markup=keyboards.settings(locale, preference)
    )


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
    preference = await uow.nudges.preference(person.id)
    with i18n.use_locale(callback_data.locale):
        await query.answer(texts.language_changed())
        await replace_message(
            query,
            _settings(callback_data.locale, preference),
            keyboards.settings(callback_data.locale, preference),
        )


async def choose_nudges(
    query: CallbackQuery,
    callback_data: NudgeChoice,
    locale: str,
    person: Person | None,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    if person is None:
        await query.answer()
        return
    if callback_data.setting is NudgeSetting.QUIET:
        quiet = QUIET_HOURS_CHOICES[callback_data.quiet]
        preference = await nudge_choices.set_quiet_hours(uow, person.id, quiet, clock.now())
        await query.answer(nudges_texts.quiet_hours_set(quiet))
    else:
        enabled = callback_data.setting is NudgeSetting.ON
        preference = await nudge_choices.set_enabled(uow, person.id, enabled, clock.now())
        await query.answer(nudges_texts.switched(enabled))
    await replace_message(
        query, _settings(locale, preference), keyboards.settings(locale, preference)
    )
