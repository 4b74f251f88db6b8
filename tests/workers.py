"""Per-process test databases for pytest-xdist: ``test`` becomes ``test_gw0``, ``test_gw1``…
on PostgreSQL (created when missing), and Redis database 0 becomes 1, 2… per worker."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from sqlalchemy.engine import make_url


def worker_database(url: str | None, worker: str) -> str | None:
    """The PostgreSQL URL for this worker; the same URL without xdist."""
    if url is None or not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    asyncio.run(_create_database(url, name))
    return parsed.set(database=name).render_as_string(hide_password=False)


async def _create_database(url: str, name: str) -> None:
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def worker_redis(url: str | None, worker: str) -> str | None:
    """The Redis URL for this worker: database 1 + its number (Redis has 16 by default)."""
    if url is None or not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{1 + int(worker[2:]) % 15}"))
