"""Fixtures: databases (SQLite, and PostgreSQL when configured), a clock, a wired bot."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from hearth.bot.app import Hearth, build_hearth
from hearth.config import Settings
from hearth.simulate.clock import VirtualClock
from hearth.storage import tables  # noqa: F401 - registers the tables
from hearth.storage.engine import create_engine, unit_of_work_factory
from hearth.storage.unit_of_work import UnitOfWorkFactory
from tests.telegram import REFUSED_TEXTS, TOKEN, RecordingSession, UpdateFeed
from tests.workers import worker_database, worker_redis

# pytest-xdist runs the suite in several processes (``-n``): each gets a PostgreSQL
# database and a Redis database of its own, since tests drop and recreate the schema.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
POSTGRES_URL = worker_database(os.environ.get("HEARTH_TEST_DATABASE_URL"), WORKER)
REDIS_URL = worker_redis(os.environ.get("HEARTH_TEST_REDIS_URL"), WORKER)

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(autouse=True)
def telegram_takes_every_text() -> Iterator[None]:
    """Every text and caption a test's bot sent is one Telegram would take: valid HTML in
    HTML parse mode, within the length limits (``tests/telegram_html.py``)."""
    REFUSED_TEXTS.clear()
    yield
    refused = list(REFUSED_TEXTS)
    REFUSED_TEXTS.clear()
    assert not refused, "Telegram would refuse:\n" + "\n".join(refused)


def pytest_report_header() -> list[str]:
    return [
        f"hearth: PostgreSQL tests {'on ' + POSTGRES_URL if POSTGRES_URL else 'off'}",
        f"hearth: Redis tests {'on ' + REDIS_URL if REDIS_URL else 'off'}",
    ]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """Each storage test runs on SQLite and, when configured, on PostgreSQL."""
    return POSTGRES_URL if request.param == "postgresql" else sqlite_url  # type: ignore[return-value]


async def fresh_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Whatever an earlier test or run left (tables of any version, alembic's too).
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        else:
            await connection.run_sync(SQLModel.metadata.drop_all)
        await connection.run_sync(SQLModel.metadata.create_all)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await fresh_schema(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    return unit_of_work_factory(engine)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "database_url": database_url,
        "scheduler": False,  # tests run the jobs themselves, on the virtual clock
        # Telegram's limits are a matter of the delivery tests; here they would only wait.
        "messages_per_second": 10_000,
        "private_messages_per_second": 10_000,
        "group_messages_per_minute": 600_000,
        "_env_file": None,
    }
    return Settings(**(values | overrides))


class BotHarness:
    """The real dispatcher and storage, with Telegram replaced by a recording session."""

    def __init__(self, hearth: Hearth, session: RecordingSession) -> None:
        self.hearth = hearth
        self.session = session
        self.feed_ids = UpdateFeed(hearth.bot)

    async def feed(self, raw: dict[str, Any]) -> Any:
        update = self.feed_ids.build(raw)
        result = await self.hearth.dispatcher.feed_update(self.hearth.bot, update)
        await self.hearth.acks.idle()  # acknowledgements go out after the update
        return result

    async def flush(self) -> None:
        await self.hearth.buffer.flush()

    def uow(self) -> Any:
        return self.hearth.uow_factory()


async def make_harness(database_url: str, clock: VirtualClock, **settings: Any) -> BotHarness:
    session = RecordingSession()
    hearth = build_hearth(make_settings(database_url, **settings), clock=clock, session=session)
    await fresh_schema(hearth.engine)
    await hearth.on_startup()
    return BotHarness(hearth, session)


@pytest.fixture
async def bot(sqlite_url: str, clock: VirtualClock) -> AsyncIterator[BotHarness]:
    """A wired Hearth on SQLite."""
    harness = await make_harness(sqlite_url, clock, operator_ids="7", welcome_batch_seconds=0)
    yield harness
    await harness.hearth.on_shutdown()


@pytest.fixture
async def bot_on_each_backend(database_url: str, clock: VirtualClock) -> AsyncIterator[BotHarness]:
    """A wired Hearth on SQLite and, when configured, on PostgreSQL."""
    harness = await make_harness(database_url, clock, operator_ids="7", welcome_batch_seconds=0)
    yield harness
    await harness.hearth.on_shutdown()
