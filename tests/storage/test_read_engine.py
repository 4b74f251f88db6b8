"""The console's read-only SQLite engine: it sees what the writer committed, reads while the
writer holds its transaction open, and refuses to write."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from hearth.storage.engine import create_engine, create_read_engine
from hearth.storage.migrate import upgrade_database


async def test_the_read_engine_reads_beside_the_writer_and_never_writes(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    await asyncio.to_thread(upgrade_database, url)
    writer, reader = create_engine(url), create_read_engine(url)
    assert reader is not None
    try:
        async with writer.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO community (id, title, timezone, locale, active, bot_is_admin,"
                    " welcome_enabled, announce_milestones, digest_enabled, created_at)"
                    " VALUES (-1, 'Owners', 'UTC', 'en', 1, 1, 1, 1, 1, '2026-03-02 09:00:00')"
                )
            )
        async with writer.connect() as holding:  # the writer's transaction stays open…
            await holding.execute(text("UPDATE community SET title = 'Renamed' WHERE id = -1"))
            async with reader.connect() as reading:  # …and the reader still reads, at once
                title = await reading.scalar(text("SELECT title FROM community WHERE id = -1"))
            await holding.rollback()
        assert title == "Owners"  # the committed row, not the open change
        async with reader.connect() as reading:
            with pytest.raises(OperationalError, match="readonly"):
                await reading.execute(text("DELETE FROM community"))
    finally:
        await writer.dispose()
        await reader.dispose()


def test_there_is_no_read_engine_for_postgresql_or_memory() -> None:
    assert create_read_engine("postgresql+asyncpg://postgres@127.0.0.1/test") is None
    assert create_read_engine("sqlite+aiosqlite:///:memory:") is None
