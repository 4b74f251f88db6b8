"""What the worker-crash and database-fault tests (tests/e2e/test_workers.py) found, pinned
down in small tests: the webhook answers after handling, an update that fails before its
member's language is known is still apologised for, and /healthz sees only the scheduler
leader of its own database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hearth.bot.app import Hearth, build_hearth
from hearth.bot.leader import SCHEDULER_LOCK_KEY
from hearth.bot.operations import check_health
from hearth.bot.runner import build_webhook_app
from hearth.simulate import updates
from hearth.simulate.clock import VirtualClock
from tests.conftest import POSTGRES_URL, BotHarness, fresh_schema, make_settings
from tests.telegram import RecordingSession

SECRET = "faults-secret"
ALICE = updates.user(4101, "Alice")
APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."


@pytest.fixture
async def webhook(sqlite_url: str, clock: VirtualClock) -> AsyncIterator[tuple[Hearth, TestClient]]:
    settings = make_settings(
        sqlite_url, webhook_url="https://bot.example.org/tg/hook", webhook_secret=SECRET
    )
    hearth = build_hearth(settings, clock=clock, session=RecordingSession())
    await fresh_schema(hearth.engine)
    client = TestClient(TestServer(build_webhook_app(hearth)))
    await client.start_server()
    yield hearth, client
    await client.close()


async def test_the_webhook_answers_only_once_the_update_was_handled(
    webhook: tuple[Hearth, TestClient],
):
    # A worker that dies before answering leaves the update to Telegram's retry; answered
    # first and handled afterwards, it would be lost with the worker.
    hearth, client = webhook
    raw = updates.message(updates.private(ALICE), ALICE, "/start", datetime.now(UTC))
    response = await client.post(
        "/tg/hook",
        json={**raw, "update_id": 7},
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status == 200
    session = hearth.bot.session
    assert isinstance(session, RecordingSession)
    assert "Welcome, Alice!" in session.texts_to(ALICE["id"])[0]


async def test_an_update_that_fails_before_its_language_is_chosen_is_apologised_for(
    bot: BotHarness,
):
    # The database fails while the member is being registered, before the locale is known.
    async with bot.hearth.engine.begin() as connection:
        await connection.execute(text("DROP TABLE member"))
    await bot.feed(updates.message(updates.private(ALICE), ALICE, "/start", datetime.now(UTC)))
    assert bot.session.texts_to(ALICE["id"]) == [APOLOGY]


needs_postgres = pytest.mark.skipif(
    POSTGRES_URL is None or make_url(POSTGRES_URL).get_backend_name() != "postgresql",
    reason="HEARTH_TEST_DATABASE_URL (PostgreSQL) is not set",
)


@asynccontextmanager
async def scheduler_lock_held(engine: AsyncEngine) -> AsyncIterator[None]:
    """The scheduler's advisory lock, held in the database of ``engine``."""
    async with engine.connect() as connection:
        assert await connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LOCK_KEY}
        )
        yield
        await connection.execute(
            text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEDULER_LOCK_KEY}
        )


@needs_postgres
async def test_healthz_counts_the_scheduler_leader_of_its_own_database_only(clock: VirtualClock):
    # Advisory locks belong to one database: a Hearth of another database on the same
    # server leading its own scheduler leads nothing here.
    assert POSTGRES_URL is not None
    settings = make_settings(POSTGRES_URL, scheduler=True)
    hearth = build_hearth(settings, clock=clock, session=RecordingSession())
    await fresh_schema(hearth.engine)
    url = make_url(POSTGRES_URL)
    elsewhere = url.set(database="template1" if url.database == "postgres" else "postgres")
    other_database = create_async_engine(elsewhere)
    here = create_async_engine(POSTGRES_URL)
    try:
        async with scheduler_lock_held(other_database):
            assert (await check_health(hearth)).scheduler_leader == "none"
        async with scheduler_lock_held(here):
            assert (await check_health(hearth)).scheduler_leader == "elected"
    finally:
        await other_database.dispose()
        await here.dispose()
        await hearth.engine.dispose()
        await hearth.bot.session.close()
