"""Alembic environment: async engines, batch mode for SQLite, Hearth's metadata."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from hearth.storage import tables  # noqa: F401 - registers the tables on the metadata
from hearth.storage.engine import create_engine

config = context.config
_LOCK = 0x6865617274680002  # "hearth" + 2: one migration at a time per database
target_metadata = SQLModel.metadata


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # APScheduler's job store manages its own table.
    return not (type_ == "table" and name is not None and name.startswith("apscheduler_"))


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=_include,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(str(config.get_main_option("sqlalchemy.url")))
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                # Several workers may start at once: one migrates, the others wait for it
                # (the lock ends with the transaction) and then find nothing left to do.
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif (given := config.attributes.get("connection")) is not None:
    _run_sync(given)
else:
    asyncio.run(_run_async())
