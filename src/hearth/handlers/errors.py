"""The one error handler: expected errors become a translated reply, others are logged."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n

from hearth.domain.errors import HearthError, InvalidArgument, NotAnOperator, UnsupportedLocale
from hearth.handlers import texts

log = logging.getLogger(__name__)


def build() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router


def describe(error: HearthError) -> str:
    """The reply for an expected error."""
    if isinstance(error, InvalidArgument):
        return error.usage
    if isinstance(error, NotAnOperator):
        return texts.not_an_operator()
    if isinstance(error, UnsupportedLocale):
        return texts.unsupported_language()
    return texts.something_went_wrong()


async def on_error(event: ErrorEvent, **data: Any) -> None:
    error = event.exception
    if not isinstance(error, HearthError):
        log.error("update %s failed: %r", event.update.update_id, error, exc_info=error)
    i18n: I18n | None = data.get("i18n")
    # (an update that failed before its member's language was chosen gets the default one)
    locale = data.get("locale") or (i18n.default_locale if i18n is not None else None)
    try:
        if i18n is not None and locale is not None:
            with i18n.context(), i18n.use_locale(locale):
                await _answer(event, error)
        else:
            await _answer(event, error)
    except TelegramAPIError as reply_error:  # the reply itself failed: nothing more to do
        log.warning("could not answer update %s: %s", event.update.update_id, reply_error)


async def _answer(event: ErrorEvent, error: Exception) -> None:
    text = describe(error) if isinstance(error, HearthError) else texts.something_went_wrong()
    update = event.update
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.message is not None:
        await update.message.reply(text)
