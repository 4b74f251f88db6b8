"""Private messages the bot writes on its own initiative, in each member's language.

Delivery through a rate-limited outbox is the delivery-engine issue's work; until then
these messages go straight to Telegram, honouring ``retry_after`` once on a 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from hearth.domain.locales import choose_locale
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.domain.points import Tier
from hearth.handlers import keyboards, texts
from hearth.handlers.texts import quote
from hearth.services.ports import Delivery

log = logging.getLogger(__name__)


class PrivateNotifier:
    """Renders reminders in the member's language and sends them in private."""

    def __init__(self, bot: Bot, i18n: I18n) -> None:
        self.bot = bot
        self.i18n = i18n

    async def checkin_reminder(
        self, member: MemberProfile, community: CommunityProfile, streak: int
    ) -> Delivery:
        with self._speaking_to(member, community):
            text = texts.checkin_reminder(community.title, streak)
            markup = keyboards.checkin_now(community)
        return await self._send(member.id, text, markup)

    async def expiry_reminder(
        self, member: MemberProfile, community: CommunityProfile, points: int, day: date
    ) -> Delivery:
        with self._speaking_to(member, community):
            text = texts.expiry_reminder(points, day, community.title)
        return await self._send(member.id, text, None)

    async def tier_reached(
        self, member: MemberProfile, community: CommunityProfile, tier: Tier
    ) -> Delivery:
        with self._speaking_to(member, community):
            text = f"{quote(community.title)}: {texts.tier_reached(tier)}"
        return await self._send(member.id, text, None)

    def _speaking_to(self, member: MemberProfile, community: CommunityProfile) -> _Locale:
        locale = choose_locale(
            member_choice=member.locale,
            language_code=member.language_code,
            community_locale=community.locale,
            default=self.i18n.default_locale,
            available=self.i18n.available_locales,
        )
        return _Locale(self.i18n, locale)

    async def _send(self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> Delivery:
        for attempt in range(2):
            try:
                await self.bot.send_message(chat_id, text, reply_markup=markup)
                return Delivery.DELIVERED
            except TelegramForbiddenError:
                return Delivery.BLOCKED
            except TelegramRetryAfter as pause:
                if attempt:
                    break
                await asyncio.sleep(pause.retry_after)
            except TelegramAPIError as error:
                log.warning("private message to %s failed: %s", chat_id, error)
                break
        return Delivery.FAILED


class _Locale:
    """``with`` both the i18n context and a locale."""

    def __init__(self, i18n: I18n, locale: str) -> None:
        self._i18n = i18n
        self._locale = locale
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> None:
        self._stack.enter_context(self._i18n.context())
        self._stack.enter_context(self._i18n.use_locale(self._locale))

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
