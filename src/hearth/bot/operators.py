"""Operators: the chat's administrators (cached a few minutes) plus configured operator ids."""

from __future__ import annotations

import logging
import time

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ChatMemberAdministrator, ChatMemberOwner

from hearth.domain.members import CommunityProfile
from hearth.services.ports import UnitOfWork

log = logging.getLogger(__name__)

Administrator = ChatMemberOwner | ChatMemberAdministrator


class ChatAdminOperators:
    """Answers "may this user operate that community?" with few calls to Telegram."""

    def __init__(self, operator_ids: frozenset[int], ttl_seconds: float = 300) -> None:
        self.operator_ids = operator_ids
        self.ttl = ttl_seconds
        self._cache: dict[int, tuple[float, list[Administrator]]] = {}

    async def administrators(self, bot: Bot, community_id: int) -> list[Administrator]:
        cached = self._cache.get(community_id)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        members = await bot.get_chat_administrators(community_id)
        admins = [m for m in members if isinstance(m, ChatMemberOwner | ChatMemberAdministrator)]
        self._cache[community_id] = (time.monotonic(), admins)
        return admins

    async def is_operator(self, bot: Bot, community_id: int, user_id: int) -> bool:
        if user_id in self.operator_ids:
            return True
        try:
            admins = await self.administrators(bot, community_id)
        except TelegramAPIError as error:
            log.warning("administrators of %s unavailable: %s", community_id, error)
            return False
        return any(admin.user.id == user_id for admin in admins)

    async def operated(self, bot: Bot, uow: UnitOfWork, user_id: int) -> list[CommunityProfile]:
        if user_id in self.operator_ids:
            return await uow.communities.active()
        return [
            community
            for community in await uow.memberships.communities_of(user_id)
            if await self.is_operator(bot, community.id, user_id)
        ]

    def forget(self, community_id: int) -> None:
        self._cache.pop(community_id, None)
