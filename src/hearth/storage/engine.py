"""Database engines: SQLite in WAL mode with a busy timeout, PostgreSQL through asyncpg."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from hearth.storage.unit_of_work import UnitOfWorkFactory

SQLITE_BUSY_TIMEOUT_MS = 5000


def create_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """An async engine for ``url``; SQLite connections get WAL, busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
        if memory:
            options["poolclass"] = StaticPool  # one shared connection, or each sees an empty DB
        else:
            # SQLite has one writer at a time. One connection makes transactions queue in
            # order in the pool, instead of inside SQLite's busy handler, which sleeps and
            # retries and gives up after the busy timeout.
            options.update(pool_size=1, max_overflow=0, pool_timeout=120)
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def create_read_engine(url: str, *, connections: int = 2) -> AsyncEngine | None:
    """On a SQLite file, an engine for reading only: a few connections that read side by
    side (in WAL mode readers wait neither for each other nor for the writer) and never take
    the write lock. None elsewhere: PostgreSQL's pool already reads side by side, and an
    in-memory database exists on its one connection only."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=connections,
        max_overflow=0,
        pool_timeout=120,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_read_pragmas)
    event.listen(engine.sync_engine, "begin", _begin_deferred)
    return engine


def _sqlite_read_pragmas(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")  # a read engine that tried to write would fail
    cursor.close()


def _begin_deferred(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")  # a read transaction: no write lock


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy emits BEGIN itself (below), not the driver.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    # A transaction that reads and then writes must hold the write lock from the start, or a
    # concurrent writer makes it fail at once (SQLITE_BUSY) instead of waiting its turn.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def unit_of_work_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    """Units of work bound to ``engine``."""
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    return UnitOfWorkFactory(sessions, engine.dialect.name)
