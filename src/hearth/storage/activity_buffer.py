"""Write-behind buffer for passive activity: rows are written in batches, not one per update.

A group of 5,000 members produces a steady stream of messages; one transaction per
message would make the database the bottleneck. Rows collected here are written every
``max_delay`` seconds or every ``max_rows`` rows, in one transaction: first the members
and memberships first seen in that stream, then the activity, then the ids of the updates
they came from. ``stop()`` drains everything on a clean shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from hearth.domain.activity import ActivityRecord
from hearth.domain.members import Person
from hearth.services.ports import Clock, UnitOfWork
from hearth.storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

BatchHook = Callable[[UnitOfWork, list[ActivityRecord], datetime], Awaitable[None]]


class ActivityBuffer:
    """Collects activity rows and processed update ids; writes them in batches."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        max_rows: int = 500,
        max_delay: float = 0.5,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self.max_rows = max_rows
        self.max_delay = max_delay
        self._records: list[ActivityRecord] = []
        self._processed: list[int] = []
        self._members: dict[int, Person] = {}
        self._memberships: dict[tuple[int, int], datetime] = {}
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.written = 0  # rows written since start, for progress output and benchmarks
        self.on_flush: Callable[[int], None] | None = None
        # Work that belongs in the same transaction as a batch (points for messages).
        self.on_batch: BatchHook | None = None

    @property
    def pending(self) -> int:
        return len(self._records) + len(self._processed)

    @property
    def has_registrations(self) -> bool:
        """Members or memberships wait to be written: flush before reading them back."""
        return bool(self._members or self._memberships)

    def register(self, community_id: int, person: Person, at: datetime) -> None:
        """Queue a member first seen taking part in a community (written before activity)."""
        self._members.setdefault(person.id, person)
        self._memberships.setdefault((community_id, person.id), at)

    def add(self, records: Iterable[ActivityRecord], update_id: int | None) -> None:
        """Queue the activity of one update and, when given, mark the update processed."""
        self._records.extend(records)
        if update_id is not None:
            self._processed.append(update_id)
        if self.pending >= self.max_rows:
            self._wake.set()

    @property
    def full(self) -> bool:
        return self.pending >= self.max_rows

    async def flush(self) -> int:
        """Write everything queued now; returns the number of activity rows written."""
        async with self._lock:
            records, self._records = self._records, []
            processed, self._processed = self._processed, []
            members, self._members = self._members, {}
            memberships, self._memberships = self._memberships, {}
            if not (records or processed or members or memberships):
                return 0
            try:
                async with self._uow_factory() as uow:
                    now = self._clock.now()
                    await uow.members.upsert_many(members.values(), now)
                    await uow.memberships.add_seen_many(
                        (community_id, member_id, at)
                        for (community_id, member_id), at in memberships.items()
                    )
                    await uow.activity.add_many(records)
                    if self.on_batch is not None and records:
                        await self.on_batch(uow, records, now)
                    await uow.processed_updates.add_many(processed, now)
                    await uow.commit()
            except Exception:
                # Keep the rows for the next attempt rather than lose them.
                self._records[:0] = records
                self._processed[:0] = processed
                self._members = {**members, **self._members}
                self._memberships = {**memberships, **self._memberships}
                raise
            self.written += len(records)
            if self.on_flush is not None:
                self.on_flush(len(records))
            return len(records)

    async def start(self) -> None:
        """Start writing in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="hearth-activity-buffer")

    async def stop(self) -> None:
        """Stop the background writer and write what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.max_delay)
            self._wake.clear()
            try:
                # stop() cancels this loop, never a batch half written (it would be lost):
                # stop() waits for the batch to finish, then writes what is left.
                await asyncio.shield(self.flush())
            except Exception:
                log.exception("writing buffered activity failed; will retry")
                await asyncio.sleep(self.max_delay)
