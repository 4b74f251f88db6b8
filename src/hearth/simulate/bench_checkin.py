"""``hearth bench checkin``: per-update latency of ``/checkin`` under an offered load.

The load is open loop: every update is started at its planned time (``rate`` per second)
whether or not the previous ones have finished, as Telegram would deliver them to a bot
handling updates as tasks. Each update's latency runs from the moment ``feed_update`` starts
to the moment it returns, so it covers every middleware, the handler, the database
transaction and the Bot API round trips made while handling it.

Two sides get the same load against the same local Bot API stand-in, over real HTTP:

* the baseline, a bare aiogram dispatcher whose ``/checkin`` handler only sets a reaction
  (one ``setMessageReaction`` round trip, no storage);
* Hearth's full dispatcher on a fresh, migrated SQLite file: a check-in row, points ledger
  entries and balances, the reaction, and a private message to the member.

Hearth's community exists before the clock starts: the bot is added as administrator, and
every member is registered (one group message each) and has started the bot (``/start``
in private), so each check-in is a member's first but not their first contact. None of
that setup is timed. Machines are noisy: compare the ratio, not the absolute figures.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import gc
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command
from aiogram.types import Message, ReactionTypeEmoji, Update
from pydantic import SecretStr
from sqlalchemy import distinct, func, select
from sqlmodel import col

from hearth.bot.app import Hearth, build_hearth
from hearth.config import Settings
from hearth.handlers import errors
from hearth.simulate import updates
from hearth.simulate.bench import BENCH_TOKEN, CHAT_ID, group_messages
from hearth.simulate.botapi import BotApiStandIn
from hearth.storage import tables
from hearth.storage.migrate import upgrade_database

GOAL_P99_MS = 20.0
OWNER_ID = 400_000
# The first update starts a little after scheduling begins, so it is not planned in the past.
_LEAD_IN_SECONDS = 0.05

JsonDict = dict[str, Any]
Feed = Callable[[Update], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One side's run: per-update latencies and how far starts lagged behind the plan."""

    offered_rate: float
    latencies: list[float]  # seconds, sorted
    start_lags: list[float]  # seconds, sorted: actual start minus planned start
    elapsed: float  # first start to last completion
    failures: int  # included in the latencies: a failed update is answered too
    first_failure: str | None = None
    failure_kinds: tuple[tuple[str, int], ...] = ()  # most frequent first
    other_errors: int = 0  # errors logged outside any one update
    first_other_error: str | None = None

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        """Updates handled without failure, per second."""
        succeeded = self.completed - self.failures
        return succeeded / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, percent: int) -> float:
        return _percentile(self.latencies, percent) * 1000

    @property
    def max_ms(self) -> float:
        return self.latencies[-1] * 1000 if self.latencies else 0.0


@dataclass(frozen=True, slots=True)
class StoredFigures:
    """What Hearth's database holds after the measured run."""

    checkins: int
    distinct_members: int
    ledger_entries: int
    ledger_sum: int
    balance_total: int
    reactions: int
    private_messages: int


@dataclass(frozen=True, slots=True)
class CheckinBenchResult:
    """Both sides of one run, and what Hearth stored."""

    offered: int
    expected_checkins: int
    baseline: LoadResult
    hearth: LoadResult
    stored: StoredFigures

    @property
    def p99_ratio(self) -> float:
        baseline = self.baseline.percentile_ms(99)
        return self.hearth.percentile_ms(99) / baseline if baseline > 0 else float("inf")

    @property
    def stored_once(self) -> bool:
        return self.stored.checkins == self.stored.distinct_members == self.expected_checkins

    @property
    def points_consistent(self) -> bool:
        return self.stored.balance_total == self.stored.ledger_sum


class _ErrorCounter(logging.Handler):
    """Counts the errors Hearth logs while measured, instead of printing each traceback."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.failed_updates = 0  # logged by the error handler: one per failed update
        self.first_failure: str | None = None
        self.failure_kinds: collections.Counter[str] = collections.Counter()
        self.other = 0  # e.g. the activity buffer's write retries
        self.first_other: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().splitlines()[0][:160]
        if record.name == errors.__name__:
            self.failed_updates += 1
            self.first_failure = self.first_failure or message
            error = record.exc_info[1] if record.exc_info else None
            self.failure_kinds[_kind(error) if error is not None else message] += 1
        else:
            self.other += 1
            self.first_other = self.first_other or f"{record.name}: {message}"


def _kind(error: BaseException) -> str:
    """The exception's class and the first line of its message, e.g. "database is locked"."""
    detail = str(getattr(error, "orig", None) or error).splitlines()
    return f"{type(error).__name__}: {detail[0][:80] if detail else ''}"


@contextlib.contextmanager
def _counting_errors() -> Iterator[_ErrorCounter]:
    # Hearth's error handler swallows the exception, logs it and replies "something went
    # wrong": the update still "completes", so its failures are counted from the log.
    logger = logging.getLogger("hearth")
    counter = _ErrorCounter()
    propagate = logger.propagate
    logger.addHandler(counter)
    logger.propagate = False
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.propagate = propagate


def _percentile(ordered: list[float], percent: int) -> float:
    if not ordered:
        return 0.0
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[percent - 1]


def checkin_messages(
    chat: JsonDict,
    people: list[JsonDict],
    count: int,
    *,
    first_update_id: int,
    first_message_id: int,
) -> list[JsonDict]:
    """``count`` raw ``/checkin`` group messages, from ``people`` in turn."""
    now = datetime.now(UTC)
    return [
        updates.message(
            chat,
            people[index % len(people)],
            "/checkin",
            now,
            message_id=first_message_id + index,
            update_id=first_update_id + index,
        )
        for index in range(count)
    ]


async def offer_load(feed: Feed, parsed: list[Update], rate: float) -> LoadResult:
    """Start each update at its planned time, never waiting for earlier ones to finish."""
    latencies: list[float] = []
    lags: list[float] = []
    failures = 0

    async def one(update: Update, planned: float) -> None:
        nonlocal failures
        started = time.perf_counter()
        lags.append(started - planned)
        try:
            await feed(update)
        except Exception:  # counted and reported; one failure must not stop the load
            failures += 1
        latencies.append(time.perf_counter() - started)

    tasks: list[asyncio.Task[None]] = []
    gc.collect()  # the setup's garbage is not the measured updates' to pay for
    origin = time.perf_counter() + _LEAD_IN_SECONDS
    first_start = origin
    for index, update in enumerate(parsed):
        planned = origin + index / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        # Behind schedule, the loop goes on without sleeping: late updates start in a burst.
        tasks.append(asyncio.create_task(one(update, planned)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - first_start
    return LoadResult(
        offered_rate=rate,
        latencies=sorted(latencies),
        start_lags=sorted(lags),
        elapsed=elapsed,
        failures=failures,
    )


def _parse(raws: list[JsonDict], bot: Bot) -> list[Update]:
    # Parsed before the clock starts: the latency is the dispatcher's, not pydantic's.
    return [Update.model_validate(raw, context={"bot": bot}) for raw in raws]


async def _baseline(raws: list[JsonDict], base_url: str, rate: float) -> LoadResult:
    async def check_in(message: Message) -> None:
        await message.react([ReactionTypeEmoji(emoji="🔥")])

    router = Router()
    router.message.register(check_in, Command("checkin"))
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    bot = Bot(BENCH_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    try:
        parsed = _parse(raws, bot)

        async def feed(update: Update) -> object:
            return await dispatcher.feed_update(bot, update)

        return await offer_load(feed, parsed, rate)
    finally:
        await bot.session.close()


async def _prepare_community(
    hearth: Hearth, api: BotApiStandIn, registration: list[JsonDict], first_update_id: int
) -> int:
    """Add the bot, register every member and let them start the bot; returns the next id."""
    chat: JsonDict = registration[0]["message"]["chat"]
    owner = updates.user(OWNER_ID, "Owner")
    api.set_chat(chat)
    api.set_admins(CHAT_ID, [{**owner, "status": "creator"}])
    now = datetime.now(UTC)
    update_id = first_update_id
    added = updates.chat_member_update(
        chat, api.bot_user, "left", "administrator", now, actor=owner, kind="my_chat_member"
    )
    added["update_id"] = update_id
    update_id += 1
    setup = [added, *registration]
    for raw in registration:
        start = updates.message(
            updates.private(raw["message"]["from"]),
            raw["message"]["from"],
            "/start",
            now,
            update_id=update_id,
        )
        setup.append(start)
        update_id += 1
    for raw in setup:
        await hearth.dispatcher.feed_update(
            hearth.bot, Update.model_validate(raw, context={"bot": hearth.bot})
        )
    await hearth.buffer.flush()
    return update_id


async def _stored_figures(hearth: Hearth, api: BotApiStandIn, since_call: int) -> StoredFigures:
    calls = api.calls[since_call:]
    in_chat = col(tables.Checkin.community_id) == CHAT_ID
    async with hearth.uow_factory() as uow:
        session = uow.session

        async def number(statement: Any) -> int:
            return int(await session.scalar(statement) or 0)

        return StoredFigures(
            checkins=await number(select(func.count()).select_from(tables.Checkin).where(in_chat)),
            distinct_members=await number(
                select(func.count(distinct(col(tables.Checkin.member_id)))).where(in_chat)
            ),
            ledger_entries=await number(select(func.count()).select_from(tables.PointsEntry)),
            ledger_sum=await number(select(func.sum(col(tables.PointsEntry.amount)))),
            balance_total=await number(select(func.sum(col(tables.PointsBalance.balance)))),
            reactions=sum(1 for call in calls if call.method == "setMessageReaction"),
            private_messages=sum(
                1
                for call in calls
                if call.method == "sendMessage" and int(call.params.get("chat_id", 0)) > 0
            ),
        )


async def _hearth_side(
    api: BotApiStandIn,
    folder: Path,
    registration: list[JsonDict],
    people: list[JsonDict],
    count: int,
    rate: float,
) -> tuple[LoadResult, StoredFigures]:
    database_url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await asyncio.to_thread(upgrade_database, database_url)
    settings = Settings(
        bot_token=SecretStr(BENCH_TOKEN),
        telegram_api_base=api.base_url,
        database_url=database_url,
        scheduler=False,  # no background jobs competing with the measured updates
        _env_file=None,
    )
    hearth = build_hearth(settings)
    await hearth.on_startup()
    try:
        chat: JsonDict = registration[0]["message"]["chat"]
        next_id = await _prepare_community(hearth, api, registration, len(registration) + 1)
        raws = checkin_messages(
            chat,
            people,
            count,
            first_update_id=next_id,
            first_message_id=len(registration) + 1,
        )
        parsed = _parse(raws, hearth.bot)
        since_call = len(api.calls)

        async def feed(update: Update) -> object:
            return await hearth.dispatcher.feed_update(hearth.bot, update)

        with _counting_errors() as logged:
            load = await offer_load(feed, parsed, rate)
            await hearth.buffer.flush()  # inside: its errors are counted too
            load = dataclasses.replace(
                load,
                failures=load.failures + logged.failed_updates,
                first_failure=logged.first_failure,
                failure_kinds=tuple(logged.failure_kinds.most_common()),
                other_errors=logged.other,
                first_other_error=logged.first_other,
            )
        stored = await _stored_figures(hearth, api, since_call)
    finally:
        await hearth.on_shutdown()
        await hearth.bot.session.close()
    return load, stored


def _line(name: str, load: LoadResult) -> str:
    return (
        f"  {name:<9} achieved {load.throughput:7.1f}/s of {load.offered_rate:g}/s   "
        f"p50 {load.percentile_ms(50):7.2f}  p90 {load.percentile_ms(90):7.2f}  "
        f"p99 {load.percentile_ms(99):7.2f}  max {load.max_ms:8.2f} ms"
        f"   (start lag p99 {_percentile(load.start_lags, 99) * 1000:.2f} ms"
        f"{f', {load.failures} failed' if load.failures else ''})"
    )


async def run_checkin_benchmark(
    *,
    rate: float = 200.0,
    seconds: float = 30.0,
    members: int | None = None,
    echo: Callable[[str], object] = print,
) -> CheckinBenchResult:
    """Offer ``rate`` check-ins per second for ``seconds`` to both sides; print the figures.

    ``members`` defaults to one member per check-in; fewer members check in again, which
    Hearth answers as "already checked in today".
    """
    count = max(1, round(rate * seconds))
    members = members or count
    registration = group_messages(members, members)
    people: list[JsonDict] = [raw["message"]["from"] for raw in registration]
    expected = min(members, count)
    echo(
        f"checkin: {rate:g} check-ins/s offered for {seconds:g} s, open loop "
        f"({count:,} updates from {members:,} members)"
    )
    echo(
        "  untimed setup: bot added as administrator; every member registered "
        "(one group message) and started the bot (/start), so each check-in also sends a "
        "private message"
    )
    async with BotApiStandIn(token=BENCH_TOKEN) as api:
        baseline_raws = checkin_messages(
            registration[0]["message"]["chat"],
            people,
            count,
            first_update_id=1,
            first_message_id=1,
        )
        baseline = await _baseline(baseline_raws, api.base_url, rate)
        echo(_line("baseline", baseline) + "  bare aiogram, reaction only")
        with tempfile.TemporaryDirectory(prefix="hearth-bench-") as folder:
            hearth, stored = await _hearth_side(
                api, Path(folder), registration, people, count, rate
            )
        echo(_line("Hearth", hearth) + "  full dispatcher + SQLite")
        if hearth.first_failure is not None:
            echo(f"    first failure: {hearth.first_failure}")
        for kind, times in hearth.failure_kinds:
            echo(f"    {times:>6,} x {kind}")
        if hearth.first_other_error is not None:
            echo(
                f"    {hearth.other_errors} other errors logged; first: {hearth.first_other_error}"
            )
    result = CheckinBenchResult(
        offered=count,
        expected_checkins=expected,
        baseline=baseline,
        hearth=hearth,
        stored=stored,
    )
    echo(f"  ratio Hearth p99 / baseline p99: {result.p99_ratio:.1f}")
    met = "met" if hearth.percentile_ms(99) < GOAL_P99_MS else "NOT met"
    echo(f"  goal: Hearth p99 < {GOAL_P99_MS:g} ms on SQLite ({met})")
    missing = expected - stored.distinct_members
    duplicated = stored.checkins - stored.distinct_members
    verdict = (
        "each exactly once"
        if result.stored_once
        else f"MISMATCH: {missing:,} missing, {duplicated:,} duplicated"
    )
    echo(
        f"  check-ins stored: {stored.checkins:,} rows for {stored.distinct_members:,} members, "
        f"{expected:,} expected: {verdict}"
    )
    echo(
        f"  points: balances total {stored.balance_total:,}, ledger sum {stored.ledger_sum:,} "
        f"over {stored.ledger_entries:,} entries: "
        f"{'equal' if result.points_consistent else 'MISMATCH'}"
    )
    echo(
        f"  Bot API calls while measuring Hearth: {stored.reactions:,} reactions, "
        f"{stored.private_messages:,} private messages"
    )
    return result
