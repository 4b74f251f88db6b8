"""Speaks to each member in their language: their choice, else Telegram's, else the group's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n

from hearth.domain.locales import choose_locale
from hearth.domain.members import CommunityProfile, MemberProfile


class LocaleMiddleware(BaseMiddleware):
    """Sets the gettext locale for the update and puts ``locale`` and ``i18n`` in the data."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n
        self.available = frozenset(i18n.available_locales)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        member: MemberProfile | None = data.get("member")
        community: CommunityProfile | None = data.get("community")
        user = data.get("event_from_user")
        locale = choose_locale(
            member_choice=member.locale if member else None,
            language_code=user.language_code if user else None,
            community_locale=community.locale if community else None,
            default=self.i18n.default_locale,
            available=self.available,
        )
        data["locale"] = locale
        data["i18n"] = self.i18n
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await handler(event, data)
