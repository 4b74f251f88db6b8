"""Hearths on databases of their own: several per test, on SQLite and on PostgreSQL.

On PostgreSQL each database is a schema of its own (the connection's ``search_path``), so
that these tests neither drop nor see what other tests running on the same server keep.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from hearth.bot.app import build_hearth
from hearth.simulate.clock import VirtualClock
from tests.conftest import BACKENDS, POSTGRES_URL, BotHarness, make_settings
from tests.telegram import RecordingSession


def use_schema(engine: AsyncEngine, schema: str) -> None:
    """Every connection ``engine`` opens works in ``schema`` (before it is first used)."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _search_path(_dialect: Any, _record: Any, _args: Any, options: dict[str, Any]) -> None:
        options.setdefault("server_settings", {})["search_path"] = schema


async def create_tables(engine: AsyncEngine, schema: str | None) -> None:
    async with engine.begin() as connection:
        if schema is not None:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await connection.run_sync(SQLModel.metadata.create_all)


async def drop_schema(engine: AsyncEngine, schema: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


class Databases:
    """Names fresh databases of one backend and starts Hearths on them."""

    def __init__(self, backend: str, directory: Path, clock: VirtualClock) -> None:
        self.backend = backend
        self.directory = directory
        self.clock = clock
        self.prefix = f"reliability_{secrets.token_hex(4)}"
        self.created: set[str] = set()
        self.running: list[BotHarness] = []

    def url(self, name: str) -> str:
        if self.backend == "postgresql":
            assert POSTGRES_URL is not None
            return POSTGRES_URL
        return f"sqlite+aiosqlite:///{self.directory / name}.db"

    def schema(self, name: str) -> str | None:
        return f"{self.prefix}_{name}" if self.backend == "postgresql" else None

    async def start(
        self, name: str, *, clock: VirtualClock | None = None, **settings: Any
    ) -> BotHarness:
        """A Hearth on the database ``name``; its tables are made the first time only, so a
        second Hearth on the same name is a restart (or a second worker)."""
        settings = {"operator_ids": "7", "welcome_batch_seconds": 0, **settings}
        session = RecordingSession()
        hearth = build_hearth(
            make_settings(self.url(name), **settings), clock=clock or self.clock, session=session
        )
        schema = self.schema(name)
        if schema is not None:
            use_schema(hearth.engine, schema)
        if name not in self.created:
            await create_tables(hearth.engine, schema)
            self.created.add(name)
        await hearth.on_startup()
        harness = BotHarness(hearth, session)
        self.running.append(harness)
        return harness

    async def stop(self, harness: BotHarness) -> None:
        """Shut ``harness`` down cleanly (what it buffered is written)."""
        self.running.remove(harness)
        await harness.hearth.on_shutdown()

    async def close(self) -> None:
        for harness in list(self.running):
            await self.stop(harness)
        if self.backend != "postgresql" or not self.created:
            return
        from hearth.storage.engine import create_engine

        assert POSTGRES_URL is not None
        engine = create_engine(POSTGRES_URL)
        try:
            for name in self.created:
                schema = self.schema(name)
                assert schema is not None
                await drop_schema(engine, schema)
        finally:
            await engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def databases(backend: str, tmp_path: Path, clock: VirtualClock) -> AsyncIterator[Databases]:
    """Fresh databases of the test's backend; every Hearth started on them is stopped after."""
    found = Databases(backend, tmp_path, clock)
    yield found
    await found.close()
