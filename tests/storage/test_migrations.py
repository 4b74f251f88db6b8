"""Alembic migrations: they build exactly the models' schema and keep existing data."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from hearth.storage.engine import create_engine, unit_of_work_factory
from hearth.storage.migrate import head_revision, upgrade_database
from tests.conftest import fresh_schema

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _empty(database_url: str) -> None:
    engine = create_engine(database_url)
    await fresh_schema(engine)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.drop_all)
        await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await engine.dispose()


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def test_migrations_build_the_schema_the_models_describe(database_url: str):
    await _empty(database_url)
    await asyncio.to_thread(upgrade_database, database_url)
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
        revision = await connection.run_sync(_revision)
    await engine.dispose()
    assert differences == []
    assert revision == head_revision()


async def test_upgrading_a_first_release_database_keeps_its_data(database_url: str):
    await _empty(database_url)
    await asyncio.to_thread(upgrade_database, database_url, "0001")
    engine = create_engine(database_url)
    async with engine.begin() as connection:  # rows as the first release wrote them
        await connection.execute(
            text(
                "INSERT INTO community (id, title, timezone, locale, active, bot_is_admin,"
                " welcome_enabled, created_at) VALUES (-100, 'Owners', 'UTC', 'en', true,"
                " false, true, '2026-03-02 09:00:00')"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO member (id, first_name, started_bot, reachable, created_at,"
                " updated_at) VALUES (1, 'Li', false, true, '2026-03-02 09:00:00',"
                " '2026-03-02 09:00:00')"
            )
        )
    await engine.dispose()

    await asyncio.to_thread(upgrade_database, database_url)  # `hearth migrate`
    await asyncio.to_thread(upgrade_database, database_url)  # and again: nothing to do

    engine = create_engine(database_url)
    async with unit_of_work_factory(engine)() as uow:
        community = await uow.communities.get(-100)
        member = await uow.members.get(1)
    await engine.dispose()
    assert community is not None
    assert community.title == "Owners"
    assert community.announce_milestones  # a new setting gets its default
    assert member is not None
    assert member.first_name == "Li"
