"""Operators: the chat's administrators (cached a few minutes) plus configured operator ids."""

from __future__ import annotations

import asyncio
import logging
import time

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ChatMemberAdministrator, ChatMemberOwner
from pydantic import TypeAdapter, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from hearth.domain.members import CommunityProfile
from hearth.services.ports import UnitOfWork

log = logging.getLogger(__name__)

Administrator = ChatMemberOwner | ChatMemberAdministrator
_ADMINISTRATORS = TypeAdapter(list[Administrator])


class ChatAdminOperators:
    """Answers "may this user operate that community?" with few calls to Telegram.

    With ``redis``, the administrators are cached there as JSON, shared by every worker of
    the bot (``namespace``, e.g. ``hearth:<bot id>``, keeps bots apart), and ``forget``
    clears them for all of them. Should Redis fail, Telegram is asked instead.
    """

    def __init__(
        self,
        operator_ids: frozenset[int],
        ttl_seconds: float = 300,
        *,
        redis: Redis | None = None,
        namespace: str = "hearth",
    ) -> None:
        self.operator_ids = operator_ids
        self.ttl = ttl_seconds
        self.redis = redis
        self.namespace = namespace
        self._cache: dict[int, tuple[float, list[Administrator]]] = {}
        self._forgetting: set[asyncio.Task[None]] = set()  # deletions on their way to Redis

    async def administrators(self, bot: Bot, community_id: int) -> list[Administrator]:
        cached = await self._cached(community_id)
        if cached is not None:
            return cached
        members = await bot.get_chat_administrators(community_id)
        admins = [m for m in members if isinstance(m, ChatMemberOwner | ChatMemberAdministrator)]
        await self._remember(community_id, admins)
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
        """Drop the cached administrators of a chat (they changed), for every worker."""
        self._cache.pop(community_id, None)
        if self.redis is not None:
            forgetting = asyncio.create_task(self._forget_shared(community_id))
            self._forgetting.add(forgetting)
            forgetting.add_done_callback(self._forgetting.discard)

    async def settle(self) -> None:
        """Wait until what this worker forgot is forgotten in Redis too."""
        if self._forgetting:
            await asyncio.gather(*self._forgetting)

    def _key(self, community_id: int) -> str:
        return f"{self.namespace}:admins:{community_id}"

    async def _cached(self, community_id: int) -> list[Administrator] | None:
        if self.redis is None:
            cached = self._cache.get(community_id)
            if cached is not None and time.monotonic() - cached[0] < self.ttl:
                return cached[1]
            return None
        await self.settle()  # a change this worker saw comes before what is cached
        try:
            stored = await self.redis.get(self._key(community_id))
            return None if stored is None else _ADMINISTRATORS.validate_json(stored)
        except (RedisError, ValidationError) as error:  # e.g. written by another aiogram
            log.warning("cached administrators of %s unreadable: %s", community_id, error)
            return None

    async def _remember(self, community_id: int, admins: list[Administrator]) -> None:
        if self.redis is None:
            self._cache[community_id] = (time.monotonic(), admins)
            return
        if self.ttl <= 0:
            return
        stored = _ADMINISTRATORS.dump_json(admins, exclude_none=True)
        try:
            await self.redis.set(self._key(community_id), stored, px=int(self.ttl * 1000))
        except RedisError as error:
            log.warning("administrators of %s not cached: %s", community_id, error)

    async def _forget_shared(self, community_id: int) -> None:
        assert self.redis is not None
        try:
            await self.redis.delete(self._key(community_id))
        except RedisError as error:  # they expire after the TTL anyway
            log.warning("cached administrators of %s not forgotten: %s", community_id, error)
