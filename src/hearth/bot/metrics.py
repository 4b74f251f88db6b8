"""Prometheus metrics of a worker, and the middleware that counts updates.

With ``hearth run --workers N`` the supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` for its
workers: each writes its figures there and ``/metrics`` on any of them adds up all of them
(prometheus_client's multiprocess mode), so a scrape through the load balancer sees the
whole deployment. A single process keeps its figures in memory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

from hearth.domain.delivery import OutboxCounts, OutboxStatus

if TYPE_CHECKING:
    from hearth.bot.delivery import DeliveryStats

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Handler latency buckets, in seconds: a reply should take milliseconds, a report a second.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """The figures ``/metrics`` shows; one instance per worker."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_ENV))
        self._seen: dict[str, int] = {}
        # In multiprocess mode the values live in files; this registry only names them.
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.updates = Counter(
            "hearth_updates",
            "Telegram updates handled, by update type.",
            ["type"],
            registry=registry,
        )
        self.duplicates = Counter(
            "hearth_updates_duplicate",
            "Updates delivered again and skipped (de-duplication).",
            registry=registry,
        )
        self.latency = Histogram(
            "hearth_update_seconds",
            "Time to handle one update, seconds.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.sent = Counter(
            "hearth_outbox_sent", "Outbox messages Telegram accepted.", registry=registry
        )
        self.failed = Counter(
            "hearth_outbox_failed",
            "Outbox messages given up on (blocked chat or a final error).",
            registry=registry,
        )
        self.rate_limited = Counter(
            "hearth_telegram_429",
            "429 Too Many Requests answers from the Bot API.",
            registry=registry,
        )
        self.outbox = Gauge(
            "hearth_outbox_messages",
            "Outbox messages by status (read from the database at scrape time).",
            ["status"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.oldest_queued = Gauge(
            "hearth_outbox_oldest_queued_seconds",
            "Age of the oldest queued outbox message, seconds (0 when none waits).",
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.leader = Gauge(
            "hearth_scheduler_leader",
            "1 on the worker that runs the scheduler.",
            registry=registry,
            multiprocess_mode="livesum",
        )

    def follow_delivery(self, stats: DeliveryStats) -> None:
        """Add what the delivery worker did since the last call to the counters."""
        for counter, total, key in (
            (self.sent, stats.sent, "sent"),
            (self.failed, stats.failed + stats.blocked, "failed"),
            (self.rate_limited, stats.rate_limited, "rate_limited"),
        ):
            counter.inc(max(total - self._seen.get(key, 0), 0))
            self._seen[key] = total

    def observe_outbox(self, counts: OutboxCounts, age_seconds: float) -> None:
        for status in OutboxStatus:
            self.outbox.labels(status=status.value).set(counts[status])
        self.oldest_queued.set(age_seconds)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes (all workers' figures in multiprocess mode)."""
        if self.multiprocess:
            registry = CollectorRegistry()
            prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


class MetricsMiddleware(BaseMiddleware):
    """Counts every update by type and times its handling (the outermost middleware)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            self.metrics.latency.observe(time.perf_counter() - started)
            self.metrics.updates.labels(type=_update_type(event)).inc()


def _update_type(event: TelegramObject) -> str:
    if not isinstance(event, Update):
        return type(event).__name__
    try:
        return event.event_type
    except Exception:  # an update of a kind this aiogram does not know
        return "unknown"


def mark_worker_dead(pid: int) -> None:
    """Forget a dead worker's live gauges (the supervisor calls this when one exits)."""
    if os.environ.get(MULTIPROCESS_ENV):
        prometheus_multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
