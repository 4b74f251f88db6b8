"""Crash test: `hearth run` is killed (SIGKILL) in the middle of a 2,000-recipient broadcast.

The stand-in kills the process right after it accepted the 700th message, before the bot
hears back: the deterministic worst moment. After a restart every recipient has exactly
one message; the one row that was in flight stays in doubt (``sending``) and is settled as
``interrupted`` by the sweep once its lease is over, never sent again.

The worker runs with one message in flight (``HEARTH_DELIVERY_CONCURRENCY=1``): with more,
the messages claimed but not yet received by Telegram at the moment of the kill are in doubt
too, and are not repeated (a duplicate is worse than a rare loss), so they would be missed.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from hearth.bot.notifier import message
from hearth.domain.delivery import OutboxStatus
from hearth.domain.members import Person
from hearth.simulate.botapi import BotApiStandIn
from hearth.storage.engine import create_engine, unit_of_work_factory
from hearth.storage.migrate import upgrade_database
from tests.e2e.test_run import TOKEN, hearth_env

RECIPIENTS = 2_000
KILL_AT = 700
FIRST = 8_000_000
GROUP = -1002000000077


async def prepare(url: str) -> None:
    """A community whose 2,000 members started the bot, and one broadcast queued to all."""
    await asyncio.to_thread(upgrade_database, url)
    engine = create_engine(url)
    uow_factory = unit_of_work_factory(engine)
    now = datetime.now(UTC)
    members = range(FIRST, FIRST + RECIPIENTS)
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="UTC", locale="en", now=now)
        await uow.members.upsert_many([Person(member, f"M{member}") for member in members], now)
        await uow.session.execute(text("UPDATE member SET started_bot = 1"))
        for member in members:
            await uow.outbox.add(
                message(
                    f"announcement:1:{member}",
                    member,
                    "The spring meet-up is on Saturday at 10:00!",
                    kind="announcement",
                    community_id=GROUP,
                    member_id=member,
                ),
                now,
            )
        await uow.commit()
    await engine.dispose()


def statuses(database: Path) -> Counter[str]:
    with sqlite3.connect(database) as connection:
        return Counter(
            dict(connection.execute("SELECT status, count(*) FROM outbox GROUP BY status"))
        )


async def start(api: BotApiStandIn, database: Path, folder: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hearth",
        "run",
        env=hearth_env(
            api,
            database,
            HEARTH_SCHEDULER="false",
            HEARTH_MESSAGES_PER_SECOND="100000",
            HEARTH_PRIVATE_MESSAGES_PER_SECOND="100000",
            HEARTH_DELIVERY_CONCURRENCY="1",
            HEARTH_LOG_LEVEL="WARNING",
        ),
        cwd=folder,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_a_broadcast_killed_midway_reaches_everyone_exactly_once_after_a_restart(
    tmp_path: Path,
):
    database = tmp_path / "crash.db"
    await prepare(f"sqlite+aiosqlite:///{database}")
    members = range(FIRST, FIRST + RECIPIENTS)

    async with BotApiStandIn(token=TOKEN) as api:
        first = await start(api, database, tmp_path)
        api.kill_after_delivering(KILL_AT, first.pid)
        _, stderr = await asyncio.wait_for(first.communicate(), timeout=60)
        assert first.returncode == -signal.SIGKILL, stderr.decode()[-3000:]
        at_the_kill = statuses(database)
        assert len(api.delivered) == KILL_AT

        second = await start(api, database, tmp_path)
        try:
            async with asyncio.timeout(60):
                while statuses(database)[OutboxStatus.QUEUED] or len(api.delivered) < RECIPIENTS:  # noqa: ASYNC110 - another process writes it
                    await asyncio.sleep(0.2)
            await asyncio.sleep(0.3)  # the last outcome is recorded right after the answer
        finally:
            second.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(second.communicate(), timeout=60)
        assert second.returncode == 0, stderr.decode()

    received = Counter(item["chat"]["id"] for item in api.delivered)
    assert {chat: received[chat] for chat in members if received[chat] != 1} == {}
    assert sum(received.values()) == RECIPIENTS
    assert at_the_kill[OutboxStatus.SENDING] == 1  # the 700th: Telegram has it, we do not know
    assert at_the_kill[OutboxStatus.SENT] == KILL_AT - 1

    after = statuses(database)
    assert after == {OutboxStatus.SENT: RECIPIENTS - 1, OutboxStatus.SENDING: 1}
    # Once its lease is over, the sweep settles the row in doubt; it is never sent again.
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    async with unit_of_work_factory(engine)() as uow:
        # (the sweep at now + SENDING_LEASE settles what was claimed before now)
        assert await uow.outbox.interrupt_stale(datetime.now(UTC)) == 1
        await uow.commit()
    await engine.dispose()
    assert statuses(database)[OutboxStatus.INTERRUPTED] == 1
