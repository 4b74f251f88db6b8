"""Start-up calls to Telegram; a server that lacks one must not stop the bot."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeDefault,
)
from aiogram.utils.i18n import I18n

from hearth.handlers.texts import MEMBER_COMMANDS, OPERATOR_COMMANDS

log = logging.getLogger(__name__)


async def publish_commands(bot: Bot, i18n: I18n) -> None:
    """Telegram's command menu in every shipped language; operators see their commands too."""
    for locale in i18n.available_locales:
        language = None if locale == i18n.default_locale else locale.split("_", 1)[0]
        with i18n.context(), i18n.use_locale(locale):
            members = [BotCommand(command=n, description=str(d)) for n, d in MEMBER_COMMANDS]
            operators = members + [
                BotCommand(command=n, description=str(d)) for n, d in OPERATOR_COMMANDS
            ]
        try:
            await bot.set_my_commands(members, BotCommandScopeDefault(), language)
            await bot.set_my_commands(operators, BotCommandScopeAllChatAdministrators(), language)
        except TelegramAPIError as error:
            log.warning("setMyCommands is not available (%s); carrying on without it", error)
            return
