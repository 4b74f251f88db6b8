"""One scheduler across workers: the leader holds a PostgreSQL advisory lock.

Every worker runs a :class:`Leadership`. On PostgreSQL it tries ``pg_try_advisory_lock`` on
a connection of its own, every ``retry_seconds`` until it wins. The lock belongs to that
database session: when the leader dies (crash, SIGKILL, a terminated connection) PostgreSQL
releases it and another worker takes over at its next try, within seconds. The leader checks
its connection on the same beat; when the connection is gone it steps down first and then
competes again like everybody else.

On SQLite there is only ever one process, so it leads from the start. The scheduled jobs are
idempotent (DESIGN.md), so the short overlap in the rare case where a terminated leader has
not noticed yet and a new one has started costs nothing but a repeated no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# "hearth" in ASCII: one advisory lock key for the scheduler of a database.
SCHEDULER_LOCK_KEY = 0x6865617274680001
DEFAULT_RETRY_SECONDS = 2.0

Transition = Callable[[], Awaitable[None]]


class Leadership:
    """Campaigns for the scheduler lock and calls ``on_elected`` / ``on_deposed``."""

    def __init__(
        self,
        database_url: str,
        *,
        on_elected: Transition,
        on_deposed: Transition,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        lock_key: int = SCHEDULER_LOCK_KEY,
    ) -> None:
        self.database_url = database_url
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.retry_seconds = retry_seconds
        self.lock_key = lock_key
        self.is_leader = False
        self.elections = 0  # how many times this worker became leader (metrics, tests)
        self._postgres = make_url(database_url).get_backend_name() == "postgresql"
        self._engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Lead at once on SQLite; on PostgreSQL campaign in the background."""
        if not self._postgres:
            await self._take_office()
            return
        # Its own engine without a pool: the lock's connection never returns to a pool that
        # handlers share, and closing it is what gives the lock back.
        self._engine = create_async_engine(self.database_url, poolclass=NullPool)
        await self._campaign_once()
        self._task = asyncio.create_task(self._campaign(), name="hearth-leadership")

    async def stop(self) -> None:
        """Step down and give the lock back (the next worker takes over at its next try)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._step_down()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def _campaign(self) -> None:
        while True:
            await asyncio.sleep(self.retry_seconds)
            try:
                await self._campaign_once()
            except Exception:  # never let the campaign die: the next beat tries again
                log.exception("leader election failed; trying again")

    async def _campaign_once(self) -> None:
        if self.is_leader:
            if not await self._still_holding():
                log.warning("lost the scheduler lock's connection; stepping down")
                await self._step_down()
            return
        if await self._try_lock():
            await self._take_office()

    async def _try_lock(self) -> bool:
        assert self._engine is not None
        try:
            connection = await self._engine.connect()
        except Exception as error:  # the database is away: not the leader, try again later
            log.warning("cannot reach the database for leader election: %s", error)
            return False
        try:
            won = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.lock_key}
            )
            await connection.commit()  # the lock is the session's, not the transaction's
        except Exception:
            await _close_quietly(connection)
            raise
        if not won:
            await _close_quietly(connection)
            return False
        self._connection = connection
        return True

    async def _still_holding(self) -> bool:
        if self._connection is None:
            return False
        try:
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
        except Exception:
            return False
        return True

    async def _take_office(self) -> None:
        self.is_leader = True
        self.elections += 1
        log.info("this worker leads the scheduler")
        await self.on_elected()

    async def _step_down(self) -> None:
        if self.is_leader:
            self.is_leader = False
            try:
                await self.on_deposed()
            except Exception:
                log.exception("stepping down failed")
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self.lock_key}
                )
            await _close_quietly(connection)


async def _close_quietly(connection: AsyncConnection) -> None:
    with contextlib.suppress(Exception):
        await connection.close()
