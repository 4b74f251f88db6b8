"""Broadcast benchmark: a private broadcast through Hearth's outbox and delivery worker.

Queues one private message to each of ``--recipients`` members through the real
``OutboxWriter`` and sends them with the real ``DeliveryWorker`` (wired by ``build_hearth``,
SQLite file database) to the local Bot API stand-in over HTTP. The stand-in enforces
Telegram's limits (``--rate`` messages/s overall, 1/s per chat) and answers 429 to every
call that breaks them, so a violation shows up as a 429 rather than passing silently.

The baseline is the limit itself: the achieved rate is printed as a ratio of ``--rate``
(goal ≥ 0.95), with the 429s received (goal 0), duplicates (must be 0), recipients missed
and the latency from queued to sent (p50/p99). At 30/s the full run takes about 100 s;
``--scale`` multiplies the rate and the recipients alike (same duration), ``--quick`` sends
a tenth of the recipients (about 10 s).

Usage: python benchmarks/broadcast.py [--recipients 3000] [--rate 30] [--scale 1] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select

from hearth.bot.app import Hearth, build_hearth
from hearth.bot.notifier import message
from hearth.config import Settings
from hearth.domain.delivery import OutboxStatus, Priority
from hearth.simulate.botapi import BotApiStandIn, RateLimits
from hearth.storage.migrate import upgrade_database
from hearth.storage.outbox import OutboxRow

TOKEN = "654321:BROADCAST"
FIRST_MEMBER = 7_000_000


async def run_broadcast_benchmark(recipients: int, rate: float) -> dict[str, float]:
    """Send the broadcast and return its figures (also printed)."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'broadcast.db'}"
        await asyncio.to_thread(upgrade_database, url)
        async with BotApiStandIn(token=TOKEN) as api:
            api.enforce_limits(RateLimits(per_second=rate, per_chat_per_second=1))
            settings = Settings(
                bot_token=SecretStr(TOKEN),
                telegram_api_base=api.base_url,
                database_url=url,
                scheduler=False,
                messages_per_second=rate,
                _env_file=None,  # type: ignore[call-arg]
            )
            hearth = build_hearth(settings)
            await hearth.on_startup()
            try:
                return await _broadcast(hearth, api, recipients, rate)
            finally:
                await hearth.on_shutdown()
                await hearth.bot.session.close()


async def _broadcast(
    hearth: Hearth, api: BotApiStandIn, recipients: int, rate: float
) -> dict[str, float]:
    chats = range(FIRST_MEMBER, FIRST_MEMBER + recipients)
    before = len(api.delivered)
    started = time.perf_counter()
    async with hearth.uow_factory() as uow:
        for chat_id in chats:
            await hearth.outbox.queue(
                uow,
                message(
                    f"bench-broadcast:{chat_id}",
                    chat_id,
                    f"Hello {chat_id}: the spring meet-up is on Saturday!",
                    kind="announcement",
                    priority=Priority.BROADCAST,
                    member_id=chat_id,
                ),
            )
        await uow.commit()
    queued = time.perf_counter()
    while len(api.delivered) - before < recipients:
        if time.perf_counter() - queued > recipients / rate * 3 + 30:
            break  # something is stuck: report what arrived
        await asyncio.sleep(0.05)
    finished = time.perf_counter()

    per_chat = Counter(item["chat"]["id"] for item in api.delivered[before:])
    duplicates = sum(count - 1 for count in per_chat.values() if count > 1)
    missed = sum(1 for chat_id in chats if per_chat[chat_id] == 0)
    await asyncio.sleep(0.2)  # the last outcomes are being recorded
    async with hearth.uow_factory() as uow:
        rows = (
            await uow.session.execute(
                select(OutboxRow.created_at, OutboxRow.sent_at).where(
                    OutboxRow.status == OutboxStatus.SENT.value
                )
            )
        ).all()
    latencies = sorted(_seconds(sent - created) for created, sent in rows if sent is not None)
    elapsed = finished - queued
    achieved = sum(per_chat.values()) / elapsed if elapsed > 0 else 0.0
    figures = {
        "recipients": recipients,
        "limit": rate,
        "achieved": achieved,
        "ratio": achieved / rate,
        "elapsed": elapsed,
        "queueing": queued - started,
        "rate_limited": hearth.delivery.stats.rate_limited,
        "violations": api.limit_violations,
        "duplicates": duplicates,
        "missed": missed,
        "p50": _quantile(latencies, 0.50),
        "p99": _quantile(latencies, 0.99),
    }
    _print(figures)
    return figures


def _seconds(delta: timedelta) -> float:
    return delta.total_seconds()


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _print(f: dict[str, float]) -> None:
    print(f"broadcast: {int(f['recipients'])} private recipients, limit {f['limit']:g} msg/s")
    print(f"  queued in              {f['queueing']:.2f} s (one transaction)")
    print(f"  sent in                {f['elapsed']:.1f} s")
    print(
        f"  achieved               {f['achieved']:.2f} msg/s = {f['ratio']:.3f} x the limit"
        " (goal >= 0.95)"
    )
    print(
        f"  429s received          {int(f['rate_limited'])} "
        f"(stand-in counted {int(f['violations'])} violations; goal 0)"
    )
    print(f"  duplicates             {int(f['duplicates'])} (must be 0)")
    print(f"  recipients missed      {int(f['missed'])}")
    print(f"  queued -> sent latency p50 {f['p50']:.2f} s, p99 {f['p99']:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=3000, help="private recipients")
    parser.add_argument("--rate", type=float, default=30.0, help="overall limit, messages/s")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the rate and the recipients"
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the recipients")
    arguments = parser.parse_args()
    if arguments.recipients < 1 or arguments.rate <= 0 or arguments.scale <= 0:
        parser.error("--recipients, --rate and --scale must be positive")
    recipients = arguments.recipients * arguments.scale / (10 if arguments.quick else 1)
    asyncio.run(run_broadcast_benchmark(max(int(recipients), 1), arguments.rate * arguments.scale))


if __name__ == "__main__":
    main()
