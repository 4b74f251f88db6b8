"""Skips updates handled before: Telegram re-delivers, Hearth acts once."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

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


class DedupeMiddleware(BaseMiddleware):
    """Drops an update whose id was already claimed (in this process or before a restart)."""

    def __init__(self, recent: RecentUpdates) -> None:
        self.recent = recent
        self.skipped = 0

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Update) and not self.recent.claim(event.update_id):
            self.skipped += 1
            log.info("update %s was delivered again; skipped", event.update_id)
            return None
        return await handler(event, data)
