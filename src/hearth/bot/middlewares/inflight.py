"""Tracks updates being handled so that shutdown waits for them instead of cutting them off."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class InFlightMiddleware(BaseMiddleware):
    """Counts running handlers; ``wait_idle`` returns when none is left."""

    def __init__(self) -> None:
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
