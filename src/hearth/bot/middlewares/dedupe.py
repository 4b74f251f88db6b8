"""Skips updates handled before: Telegram re-delivers, Hearth acts once."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis

log = logging.getLogger(__name__)

# Telegram keeps an undelivered update for at most 24 hours; ids may restart after a week.
DEFAULT_WINDOW_SECONDS = 2 * 24 * 3600


class RecentUpdates:
    """Update ids seen in the last ``window`` seconds; older ids are forgotten."""

    def __init__(self, window: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.window = window
        self._seen: dict[int, float] = {}
        self._claims_since_prune = 0

    def claim(self, update_id: int) -> bool:
        """Mark ``update_id`` as taken; False when it was taken before (a re-delivery)."""
        now = time.monotonic()
        seen_at = self._seen.get(update_id)
        if seen_at is not None and now - seen_at < self.window:
            return False
        self._seen[update_id] = now
        self._claims_since_prune += 1
        if self._claims_since_prune >= 10_000:
            self._prune(now)
        return True

    def preload(self, update_ids: Iterable[int]) -> None:
        """Remember ids that were processed before this process started."""
        now = time.monotonic()
        for update_id in update_ids:
            self._seen.setdefault(update_id, now)

    def __len__(self) -> int:
        return len(self._seen)

    def _prune(self, now: float) -> None:
        self._claims_since_prune = 0
        self._seen = {key: at for key, at in self._seen.items() if now - at < self.window}


# Telegram stops re-delivering an update after a day; a worker that died mid-update gives
# its claim back after the lease, so that Telegram's retry is handled by another worker.
SHARED_WINDOW_SECONDS = 24 * 3600
SHARED_LEASE_SECONDS = 30  # under the 55 s after which aiogram answers the webhook anyway


class SharedUpdateClaims:
    """Update ids claimed across workers: Redis ``SET NX`` with expiry.

    A claim is first a lease (``SHARED_LEASE_SECONDS``) and becomes "done" for the window
    once the update was handled. A re-delivery that arrives while another worker still
    holds the lease waits for it: either that worker finishes (the copy is skipped) or it
    died and its lease runs out (this worker handles the update).
    """

    _DONE = b"done"

    def __init__(
        self,
        redis: Redis,
        namespace: str,
        *,
        window: float = SHARED_WINDOW_SECONDS,
        lease: float = SHARED_LEASE_SECONDS,
        poll: float = 0.2,
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        self.window = window
        self.lease = lease
        self.poll = poll
        self._token = secrets.token_hex(8).encode()

    def _key(self, update_id: int) -> str:
        return f"{self.namespace}:update:{update_id}"

    async def claim(self, update_id: int) -> bool:
        """True when this worker is to handle the update; False when it was handled."""
        key = self._key(update_id)
        deadline = time.monotonic() + self.lease + 1
        while True:
            if await self.redis.set(key, self._token, nx=True, px=int(self.lease * 1000)):
                return True
            holder = await self.redis.get(key)
            if holder == self._DONE or time.monotonic() > deadline:
                return False
            await asyncio.sleep(self.poll)

    async def done(self, update_id: int) -> None:
        await self.redis.set(self._key(update_id), self._DONE, px=int(self.window * 1000))


class DedupeMiddleware(BaseMiddleware):
    """Drops an update whose id was already claimed: in this process, before a restart
    (ids preloaded from the database) or, with Redis, by another worker."""

    def __init__(
        self,
        recent: RecentUpdates,
        shared: SharedUpdateClaims | None = None,
        on_skip: Callable[[], None] | None = None,
    ) -> None:
        self.recent = recent
        self.shared = shared
        self.on_skip = on_skip
        self.skipped = 0

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        update_id = event.update_id
        if not self.recent.claim(update_id) or (
            self.shared is not None and not await self.shared.claim(update_id)
        ):
            self.skipped += 1
            if self.on_skip is not None:
                self.on_skip()
            log.info("update %s was delivered again; skipped", update_id)
            return None
        try:
            return await handler(event, data)
        finally:
            # A failed update is done with too: retrying it would fail the same way.
            if self.shared is not None:
                try:
                    await self.shared.done(update_id)
                except Exception as error:  # the lease runs out by itself
                    log.warning("could not mark update %s done in Redis: %s", update_id, error)
