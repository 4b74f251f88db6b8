"""One unit of work per update; the update's own id is recorded in the same transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from hearth.domain.activity import ActivityRecord
from hearth.services.ports import Clock
from hearth.storage.activity_buffer import ActivityBuffer
from hearth.storage.unit_of_work import SqlUnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

# The update's unit of work and the task handling the update, for the Bot API request
# middleware that commits before a call. Tasks started by a handler inherit the context
# but must never commit the update's work: the task is how they are told apart.
CURRENT_UNIT_OF_WORK: ContextVar[tuple[SqlUnitOfWork, asyncio.Task[Any] | None] | None] = (
    ContextVar("hearth_unit_of_work", default=None)
)


class UpdateTakenElsewhere(Exception):
    """Another worker committed this update first: this worker's work is rolled back."""


class StagedActivity:
    """Activity of one update, handed to the buffer only after the update's transaction."""

    def __init__(self) -> None:
        self.records: list[ActivityRecord] = []

    def record(self, activity: ActivityRecord) -> None:
        self.records.append(activity)


class UnitOfWorkMiddleware(BaseMiddleware):
    """Opens a (lazy) unit of work, commits it after the handler, rolls it back on error.

    An update that touched the database records its id in the first transaction that
    commits; an update that only produced passive activity hands both to the write-behind
    buffer. A handler's work is committed before it calls Telegram (see commit_first.py).
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, buffer: ActivityBuffer, clock: Clock):
        self.uow_factory = uow_factory
        self.buffer = buffer
        self.clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        update_id = event.update_id if isinstance(event, Update) else None
        staged = StagedActivity()
        recorded = False

        async def record_processed() -> None:
            nonlocal recorded
            if update_id is not None and not recorded:
                if not await uow.processed_updates.claim(update_id, self.clock.now()):
                    raise UpdateTakenElsewhere(update_id)
                recorded = True

        async with self.uow_factory() as uow:
            data["uow"] = uow
            data["activity"] = staged
            uow.before_commit(record_processed)
            token = CURRENT_UNIT_OF_WORK.set((uow, asyncio.current_task()))
            try:
                try:
                    result = await handler(event, data)
                finally:
                    CURRENT_UNIT_OF_WORK.reset(token)
                await uow.commit()
            except UpdateTakenElsewhere:
                await uow.rollback()
                log.info("update %s was handled by another worker; skipped", update_id)
                return None
            except BaseException:
                await uow.rollback()
                # A failing update is still done with: retrying it would fail the same way.
                self.buffer.add([], None if recorded else update_id)
                raise
            # Passive updates never opened a transaction: their id goes with their activity.
            self.buffer.add(staged.records, None if recorded else update_id)
        if self.buffer.full:
            await self.buffer.flush()
        return result
