"""Tracks updates being handled so that shutdown waits for them instead of cutting them off."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class InFlightMiddleware(BaseMiddleware):
    """Counts running handlers and bounds how many run at once; ``wait_idle`` waits for none.

    Under a burst, updates beyond the bound wait here for their turn rather than crowd
    the database and time out.
    """

    def __init__(self, max_concurrent: int = 64) -> None:
        self._slots = asyncio.Semaphore(max_concurrent)
        self.running = 0
        self.handled = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self.running += 1
        self._idle.clear()
        try:
            async with self._slots:
                return await handler(event, data)
        finally:
            self.running -= 1
            self.handled += 1
            if self.running == 0:
                self._idle.set()

    async def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no update is being handled; False if ``timeout`` seconds passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
