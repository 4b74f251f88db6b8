"""``/healthz`` and ``/metrics`` on the webhook server, for load balancers and Prometheus."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hearth.bot.leader import SCHEDULER_LOCK_KEY
from hearth.domain.delivery import OutboxStatus

if TYPE_CHECKING:
    from hearth.bot.app import Hearth

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
# A backlog older than this means delivery is stuck (or paused far longer than a 429 asks).
STUCK_BACKLOG_SECONDS = 15 * 60
METRICS_SYNC_SECONDS = 5.0


@dataclass(frozen=True)
class Health:
    """What ``/healthz`` reports; ``ok`` decides between 200 and 503."""

    database: str
    redis: str
    scheduler_leader: str
    this_worker_leads: bool
    outbox_queued: int
    outbox_oldest_queued_seconds: float

    @property
    def ok(self) -> bool:
        return (
            self.database == "ok"
            and self.redis in {"ok", "not configured"}
            and self.scheduler_leader in {"elected", "disabled"}
            and self.outbox_oldest_queued_seconds < STUCK_BACKLOG_SECONDS
        )


async def check_health(hearth: Hearth) -> Health:
    database = await _timed(_database_ok(hearth.engine))
    redis = "not configured"
    if hearth.redis is not None:
        redis = await _timed(_redis_ok(hearth))
    leads = hearth.leadership is not None and hearth.leadership.is_leader
    leader = "disabled" if not hearth.settings.scheduler else "elected" if leads else "none"
    queued, age = 0, 0.0
    if database == "ok":
        if not leads and hearth.settings.scheduler:
            with contextlib.suppress(Exception):
                leader = "elected" if await _someone_leads(hearth.engine) else "none"
        with contextlib.suppress(Exception):
            queued, age = await _backlog(hearth)
    return Health(
        database=database,
        redis=redis,
        scheduler_leader=leader,
        this_worker_leads=leads,
        outbox_queued=queued,
        outbox_oldest_queued_seconds=round(age, 1),
    )


async def _timed(check: Any) -> str:
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return "timeout"
    except Exception as error:
        return f"error: {type(error).__name__}"
    return "ok"


async def _database_ok(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis_ok(hearth: Hearth) -> None:
    assert hearth.redis is not None
    await hearth.redis.ping()


async def _someone_leads(engine: AsyncEngine) -> bool:
    """Whether any session holds the scheduler's advisory lock of this database (PostgreSQL
    only; advisory locks belong to one database, and pg_locks shows those of every one)."""
    if engine.dialect.name != "postgresql":
        return False
    high, low = divmod(SCHEDULER_LOCK_KEY, 1 << 32)
    async with engine.connect() as connection:
        held = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :high AND objid = :low AND objsubid = 1 AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"high": high, "low": low},
        )
    return bool(held)


async def _backlog(hearth: Hearth) -> tuple[int, float]:
    async with hearth.uow_factory() as uow:
        counts = await uow.outbox.counts()
    oldest = counts.oldest_queued
    age = 0.0
    if oldest is not None:
        age = max((hearth.clock.now() - oldest).total_seconds(), 0.0)
    hearth.metrics.observe_outbox(counts, age)
    return counts[OutboxStatus.QUEUED], age


def add_operations_routes(app: web.Application, hearth: Hearth) -> None:
    """Register ``GET /healthz`` and ``GET /metrics`` and keep the counters up to date."""

    async def healthz(_request: web.Request) -> web.Response:
        health = await check_health(hearth)
        body = {"ok": health.ok, **asdict(health)}
        return web.json_response(body, status=200 if health.ok else 503)

    async def metrics(_request: web.Request) -> web.Response:
        hearth.metrics.follow_delivery(hearth.delivery.stats)
        with contextlib.suppress(Exception):
            await _backlog(hearth)
        return web.Response(
            body=hearth.metrics.exposition(),
            headers={"Content-Type": hearth.metrics.content_type},
        )

    async def follow(_app: web.Application) -> Any:
        task = asyncio.create_task(_follow_delivery(hearth), name="hearth-metrics")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.cleanup_ctx.append(follow)


async def _follow_delivery(hearth: Hearth) -> None:
    """Every worker adds its own delivery figures (a scrape reaches only one of them)."""
    while True:
        await asyncio.sleep(METRICS_SYNC_SECONDS)
        hearth.metrics.follow_delivery(hearth.delivery.stats)
        hearth.metrics.leader.set(
            1 if hearth.leadership is not None and hearth.leadership.is_leader else 0
        )
