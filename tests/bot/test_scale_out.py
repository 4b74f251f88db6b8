"""Several workers on one database: one scheduler leader, each update handled once.

The leader tests need PostgreSQL (advisory locks); the shared claims need Redis as well.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy import text

from hearth.bot.leader import Leadership
from hearth.bot.middlewares.dedupe import SharedUpdateClaims
from hearth.bot.runner import build_webhook_app
from hearth.simulate import updates
from hearth.simulate.clock import VirtualClock
from hearth.storage.engine import create_engine
from tests.conftest import POSTGRES_URL, REDIS_URL, BotHarness, make_harness
from tests.telegram import BOT_ID

needs_postgres = pytest.mark.skipif(
    POSTGRES_URL is None, reason="HEARTH_TEST_DATABASE_URL (PostgreSQL) is not set"
)
needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="HEARTH_TEST_REDIS_URL is not set")

GROUP = -1001000000555
ALICE = updates.user(5501, "Alice")


class Office:
    """A worker's view of the election: who is leading now."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def elected(self) -> None:
        self.log.append(f"{self.name} elected")

    async def deposed(self) -> None:
        self.log.append(f"{self.name} deposed")


def candidate(url: str, office: Office, lock_key: int) -> Leadership:
    return Leadership(
        url,
        on_elected=office.elected,
        on_deposed=office.deposed,
        retry_seconds=0.05,
        lock_key=lock_key,
    )


async def eventually(condition: Callable[[], bool], seconds: float = 5) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never came true")


@pytest.fixture
def lock_key() -> int:
    """A lock of the test's own, so that a parallel run never competes for it."""
    return uuid.uuid4().int % (1 << 62)


@needs_postgres
async def test_of_two_workers_exactly_one_leads_and_the_other_takes_over_when_it_stops(
    lock_key: int,
):
    assert POSTGRES_URL is not None
    log: list[str] = []
    first = candidate(POSTGRES_URL, Office("first", log), lock_key)
    second = candidate(POSTGRES_URL, Office("second", log), lock_key)
    await first.start()
    await second.start()
    try:
        await asyncio.sleep(0.3)  # several campaign beats: the second never wins meanwhile
        assert (first.is_leader, second.is_leader) == (True, False)
        assert log == ["first elected"]

        await first.stop()
        await eventually(lambda: second.is_leader)
        assert log == ["first elected", "first deposed", "second elected"]
    finally:
        await first.stop()
        await second.stop()


@needs_postgres
async def test_a_leader_whose_connection_is_terminated_steps_down_and_a_worker_takes_over(
    lock_key: int,
):
    assert POSTGRES_URL is not None
    log: list[str] = []
    first = candidate(POSTGRES_URL, Office("first", log), lock_key)
    second = candidate(POSTGRES_URL, Office("second", log), lock_key)
    await first.start()
    await second.start()
    engine = create_engine(POSTGRES_URL)
    high, low = divmod(lock_key, 1 << 32)
    try:
        async with engine.begin() as connection:  # what an operator's pg_terminate_backend does
            terminated = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE "
                    "locktype = 'advisory' AND classid = :high AND objid = :low AND granted"
                ),
                {"high": high, "low": low},
            )
        assert terminated == 1
        await eventually(lambda: "first deposed" in log and (first.is_leader or second.is_leader))
        assert [first.is_leader, second.is_leader].count(True) == 1
    finally:
        await first.stop()
        await second.stop()
        await engine.dispose()


async def test_on_sqlite_the_only_process_leads_at_once(sqlite_url: str):
    log: list[str] = []
    leadership = candidate(sqlite_url, Office("only", log), 1)
    await leadership.start()
    assert leadership.is_leader
    await leadership.stop()
    assert log == ["only elected", "only deposed"]


@pytest.fixture
async def two_workers(clock: VirtualClock) -> AsyncIterator[tuple[BotHarness, BotHarness]]:
    """Two Hearths ("workers") on one PostgreSQL database, sharing Redis when configured."""
    assert POSTGRES_URL is not None
    shared = {"redis_url": REDIS_URL} if REDIS_URL else {}
    first = await make_harness(POSTGRES_URL, clock, **shared)
    second = await make_harness(POSTGRES_URL, clock, **shared)
    if first.hearth.redis is not None:  # no update ids remembered from an earlier run
        async for key in first.hearth.redis.scan_iter(f"hearth:{BOT_ID}:update:*"):
            await first.hearth.redis.delete(key)
    yield first, second
    for harness in (first, second):
        await harness.hearth.on_shutdown()


def checkin(update_id: int) -> dict[str, object]:
    raw = updates.message(updates.group(GROUP, "Owners"), ALICE, "/checkin", datetime.now(UTC))
    return {**raw, "update_id": update_id}


async def both_at_once(
    first: BotHarness, second: BotHarness, raw: dict[str, object]
) -> list[object]:
    feeds: list[Awaitable[object]] = [first.feed(dict(raw)), second.feed(dict(raw))]
    return list(await asyncio.gather(*feeds))


@needs_postgres
async def test_one_update_given_to_two_workers_at_once_is_handled_once(
    two_workers: tuple[BotHarness, BotHarness],
):
    first, second = two_workers
    await both_at_once(first, second, checkin(9001))

    replies = [
        text
        for harness in (first, second)
        for text in harness.session.texts_to(GROUP)
        if "check" in text.lower()
    ]
    assert len(replies) == 1, replies
    async with first.uow() as uow:
        balance = await uow.points.balance(GROUP, ALICE["id"])
    assert balance > 0
    # The same update again later (Telegram re-delivers) changes nothing either.
    await both_at_once(first, second, checkin(9001))
    async with first.uow() as uow:
        assert await uow.points.balance(GROUP, ALICE["id"]) == balance


@needs_redis
async def test_a_redis_claim_waits_for_a_worker_still_handling_the_update_then_skips():
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL)
    namespace = f"hearth-test:{uuid.uuid4().hex}"
    worker_a = SharedUpdateClaims(redis, namespace, poll=0.01)
    worker_b = SharedUpdateClaims(redis, namespace, poll=0.01)
    try:
        assert await worker_a.claim(1)
        waiting = asyncio.create_task(worker_b.claim(1))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # worker A is still at it
        await worker_a.done(1)
        assert await waiting is False
        assert await worker_b.claim(2)  # other updates are free
    finally:
        await redis.aclose()


@needs_redis
async def test_a_redis_claim_of_a_worker_that_died_expires_and_another_worker_handles_it():
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL)
    namespace = f"hearth-test:{uuid.uuid4().hex}"
    dead = SharedUpdateClaims(redis, namespace, lease=0.2)
    alive = SharedUpdateClaims(redis, namespace, lease=0.2, poll=0.02)
    try:
        assert await dead.claim(7)  # ... and then the process was killed
        assert await alive.claim(7)
    finally:
        await redis.aclose()


async def test_healthz_reports_database_leader_and_backlog_and_metrics_count_updates(
    sqlite_url: str, clock: VirtualClock
):
    harness = await make_harness(
        sqlite_url, clock, scheduler=True, webhook_url="https://bot.example.org/hook"
    )
    client = TestClient(TestServer(build_webhook_app(harness.hearth, register=False)))
    await client.start_server()
    try:
        response = await client.get("/healthz")
        health = await response.json()
        assert response.status == 200
        assert health["database"] == "ok"
        assert health["redis"] == "not configured"
        assert health["scheduler_leader"] == "elected"
        assert health["outbox_queued"] == 0

        await harness.feed(checkin(77))
        metrics = await (await client.get("/metrics")).text()
        assert 'hearth_updates_total{type="message"} 1.0' in metrics
        assert "hearth_update_seconds_bucket" in metrics
        assert 'hearth_outbox_messages{status="queued"}' in metrics
    finally:
        await client.close()
        await harness.hearth.on_shutdown()


async def test_healthz_is_503_when_the_database_is_gone(sqlite_url: str, clock: VirtualClock):
    harness = await make_harness(sqlite_url, clock, webhook_url="https://bot.example.org/hook")
    client = TestClient(TestServer(build_webhook_app(harness.hearth, register=False)))
    await client.start_server()
    working = harness.hearth.engine
    broken = create_engine("sqlite+aiosqlite:////nonexistent/folder/x.db")
    try:
        harness.hearth.engine = broken
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["database"].startswith("error")
    finally:
        harness.hearth.engine = working
        await client.close()
        await broken.dispose()
        await harness.hearth.on_shutdown()
