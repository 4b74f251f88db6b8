"""``hearth bench ingest``: the full stack against a bare aiogram dispatcher, in one run.

Both sides parse the same raw JSON updates with the bot in the validation context (as
aiogram's polling does) and feed them one by one. The full side runs Hearth's real
dispatcher, middlewares and SQLite storage and is timed until its buffer is drained, so
the figure includes every row written. Machines are noisy: compare the ratio, not the
absolute rates.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message, Update
from pydantic import SecretStr
from sqlalchemy import func, select

from hearth.bot.app import build_hearth
from hearth.config import Settings
from hearth.simulate import updates
from hearth.simulate.botapi import BotApiStandIn
from hearth.storage import tables
from hearth.storage.migrate import upgrade_database

BENCH_TOKEN = "654321:BENCHMARK"
CHAT_ID = -1009999999999


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Rates of one benchmark run, in updates per second."""

    updates: int
    bare_rate: float
    full_rate: float
    rows_written: int
    members_registered: int

    @property
    def ratio(self) -> float:
        return self.full_rate / self.bare_rate


def group_messages(count: int, members: int, seed: int = 1) -> list[dict[str, Any]]:
    """Raw group messages from ``members`` members: chatter, replies and photos."""
    rng = random.Random(seed)
    chat = updates.group(CHAT_ID, "Benchmark Owners")
    people = [
        updates.user(500_000 + index, f"Member {index}", language_code=rng.choice(("en", "zh")))
        for index in range(members)
    ]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    raws: list[dict[str, Any]] = []
    for index in range(count):
        author = people[index % members] if index < members else rng.choice(people)
        at = start + timedelta(seconds=index * 3)
        extra: dict[str, Any] = {}
        text: str | None = f"message {index}"
        roll = rng.random()
        if roll < 0.15 and index:
            other = rng.choice(people)
            extra["reply_to"] = {
                "message_id": index,
                "date": updates.timestamp(at),
                "chat": chat,
                "from": other,
            }
        elif roll < 0.20:
            text = None
            extra["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
        raws.append(
            updates.message(
                chat, author, text, at, message_id=index + 1, update_id=index + 1, **extra
            )
        )
    return raws


async def _feed_all(dispatcher: Dispatcher, bot: Bot, raws: list[dict[str, Any]]) -> None:
    for raw in raws:
        update = Update.model_validate(raw, context={"bot": bot})
        await dispatcher.feed_update(bot, update)


async def _bare_rate(raws: list[dict[str, Any]], base_url: str) -> float:
    async def ignore(message: Message) -> None:
        return None

    router = Router()
    router.message.register(ignore)
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    bot = Bot(BENCH_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    try:
        started = time.perf_counter()
        await _feed_all(dispatcher, bot, raws)
        return len(raws) / (time.perf_counter() - started)
    finally:
        await bot.session.close()


async def _full_rate(
    raws: list[dict[str, Any]], base_url: str, folder: Path
) -> tuple[float, int, int]:
    database_url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await asyncio.to_thread(upgrade_database, database_url)
    settings = Settings(
        bot_token=SecretStr(BENCH_TOKEN),
        telegram_api_base=base_url,
        database_url=database_url,
        scheduler=False,  # jobs run on the virtual clock (or not at all)
        _env_file=None,
    )
    hearth = build_hearth(settings)
    await hearth.on_startup()
    try:
        started = time.perf_counter()
        await _feed_all(hearth.dispatcher, hearth.bot, raws)
        await hearth.buffer.flush()  # timed: every row is on disk before the clock stops
        elapsed = time.perf_counter() - started
        async with hearth.uow_factory() as uow:
            rows = int(
                await uow.session.scalar(select(func.count()).select_from(tables.Activity)) or 0
            )
            registered = int(
                await uow.session.scalar(select(func.count()).select_from(tables.Membership)) or 0
            )
    finally:
        await hearth.on_shutdown()
        await hearth.bot.session.close()
    return len(raws) / elapsed, rows, registered


async def run_ingest_benchmark(
    *, updates: int = 20_000, members: int = 1_000, echo: Callable[[str], object] = print
) -> IngestResult:
    """Run both sides on the same updates and print their rates and the ratio."""
    raws = group_messages(updates, members)
    echo(f"ingest: {updates} group messages from {members} members")
    async with BotApiStandIn(token=BENCH_TOKEN) as api:
        with tempfile.TemporaryDirectory(prefix="hearth-bench-") as folder:
            bare_before = await _bare_rate(raws, api.base_url)
            echo(f"  bare aiogram dispatcher (no-op handler): {bare_before:,.0f} updates/s")
            full, rows, registered = await _full_rate(raws, api.base_url, Path(folder))
            echo(f"  Hearth, full stack + SQLite:             {full:,.0f} updates/s")
            bare_after = await _bare_rate(raws, api.base_url)
            echo(f"  bare aiogram dispatcher, again:          {bare_after:,.0f} updates/s")
    bare = (bare_before + bare_after) / 2
    result = IngestResult(
        updates=updates,
        bare_rate=bare,
        full_rate=full,
        rows_written=rows,
        members_registered=registered,
    )
    echo(f"  activity rows written: {rows} of {updates} messages; members registered: {registered}")
    echo(f"  ratio full / bare: {result.ratio:.2f} (target >= 0.25)")
    return result
