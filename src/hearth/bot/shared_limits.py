"""Telegram's limits counted in Redis, so that all the workers of one bot spend one budget.

Each worker keeps its own ``SendBudget`` (priority order, local windows); with Redis, a
message also needs room in the moving windows kept here, so that four workers send 30
messages a second together, not 30 each, and a 429 received by one of them pauses all.
The keys start with the namespace (``hearth:<bot id>``): two bots on one Redis do not
share budgets. Should Redis be unreachable, each worker keeps to its own budget and says
so in the log; Telegram's 429s still pause it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_RETRY_SECONDS = 0.01  # when a window refused a message yet shows room: try again soon

# Sets the pause unless a longer one is already set: a short retry_after never cuts one short.
_EXTEND_PAUSE = """
if redis.call('pttl', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('set', KEYS[1], '1', 'PX', ARGV[1])
end
"""


def _window(limit: float, per: type[RateLimitItem], name: str) -> RateLimitItem:
    """``limit`` messages a period; below one (0.5 a second) as one in a longer period."""
    if limit < 1:
        return per(1, math.ceil(1 / limit), namespace=name)
    return per(int(limit), 1, namespace=name)


class SharedLimits:
    """Moving windows in Redis for every worker of one bot, and a pause they all honour."""

    def __init__(
        self,
        redis: Redis,
        namespace: str,
        *,
        per_second: float = 30,
        per_private_chat_per_second: float = 1,
        per_group_per_minute: float = 20,
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        # (limits takes an existing connection pool through its client options)
        client_options: dict[str, Any] = {"connection_pool": redis.connection_pool}
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=f"{namespace}:limits",
            wrap_exceptions=True,
            **client_options,
        )
        self._windows = MovingWindowRateLimiter(storage)
        self._overall = _window(per_second, RateLimitItemPerSecond, "all")
        self._private = _window(per_private_chat_per_second, RateLimitItemPerSecond, "private")
        self._group = _window(per_group_per_minute, RateLimitItemPerMinute, "group")
        self._pause_key = f"{namespace}:pause"
        self._extend_pause = redis.register_script(_EXTEND_PAUSE)
        self.unreachable = False

    async def admit_overall(self, hold: Callable[[], Awaitable[None]] | None = None) -> None:
        """Wait for room in the overall window and take it; ``hold`` goes before each try."""
        await self._admit(self._overall, hold=hold)

    async def admit_chat(self, chat_id: int) -> None:
        """Wait for room in the window of ``chat_id`` (a private chat or a group), take it."""
        if chat_id > 0:
            await self._admit(self._private, str(chat_id))
        else:
            await self._admit(self._group, str(chat_id))

    async def paused_for(self) -> float:
        """Seconds until the shared pause is over (0 when no worker is paused)."""
        try:
            left = await self.redis.pttl(self._pause_key)  # negative: no pause
        except RedisError as error:
            self._lost(error)
            return 0.0
        return max(int(left), 0) / 1000

    async def pause(self, seconds: float) -> None:
        """Pause every worker for ``seconds`` (a 429's ``retry_after``); never shortens one."""
        try:
            await self._extend_pause(keys=[self._pause_key], args=[math.ceil(seconds * 1000)])
        except RedisError as error:
            self._lost(error)

    async def _admit(
        self,
        window: RateLimitItem,
        *chat: str,
        hold: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        while True:
            if hold is not None:
                await hold()
            try:
                if await self._windows.hit(window, *chat):
                    self._found()
                    return
                reset_at, remaining = await self._windows.get_window_stats(window, *chat)
            except StorageError as error:
                self._lost(error)
                return  # this worker's own budget still holds
            # The windows count in wall-clock seconds, which the workers' clocks agree on (NTP);
            # room that shows up at once means the window moved meanwhile, or clocks differ.
            wait = reset_at - time.time() if remaining <= 0 else _RETRY_SECONDS
            await asyncio.sleep(max(wait, 0.001))

    def _lost(self, error: Exception) -> None:
        if not self.unreachable:
            log.warning("Redis unreachable (%s): this worker keeps to its own send budget", error)
        self.unreachable = True

    def _found(self) -> None:
        if self.unreachable:
            log.info("Redis is back: the workers share one send budget again")
        self.unreachable = False
