"""Scale-out benchmark: `hearth run --workers N` on PostgreSQL and Redis (issue 9).

Everything runs on this machine: PostgreSQL, Redis, the local Bot API stand-in, the
workers (`hearth run --workers N` as a subprocess, webhook mode, N processes sharing one
port) and the load generator (an aiohttp client in this process, on loopback). Each
deployment starts from a fresh schema (``DROP SCHEMA public CASCADE``, then the
migrations) and a Redis namespace of its own (a bot id of its own); the community is set up
through the webhook before any clock starts: the bot added as administrator, every member
registered with one group message and marked as having started the bot.

1. Throughput, for 1, 2 and 4 workers (a deployment each): a closed loop of
   ``--connections`` concurrent POSTs sends ``--updates`` realistic group updates (bounded
   by ``--seconds``): plain messages, some replies, and a share of ``/checkin`` by distinct
   members (``--checkins``). A worker
   answers a webhook POST only once it handled the update (``handle_in_background=False``
   in ``hearth.bot.runner``), so updates/s are answered POSTs per second. Printed with the
   ratios 2/1 and 4/1 (the baseline is the 1-worker run of the same invocation), the
   errors, the check-ins stored (must equal those sent) and how the kernel spread the
   updates over the workers (``SO_REUSEPORT``; from each worker's Prometheus file).
2. Latency: the 2-worker deployment first gets an open-loop load (sent on schedule, whatever
   the answers) of half the 1-worker throughput (``--rate``) for ``--latency-seconds``, its
   check-ins by members of their own; prints p50/p99 of the POST round trip and of the
   handler (``hearth_update_seconds`` in ``/metrics``, interpolated within its buckets), and
   how late the generator started requests (its own lag).
3. Outbox: 2 workers deliver a broadcast of ``--recipients`` private messages queued
   straight into the outbox, while the stand-in enforces Telegram's limits (30 msg/s
   overall, 1/s per chat) and answers 429 to whatever breaks them. With Redis both workers
   spend one shared 30 msg/s budget: goal 0.9 to 1.0 x 30 msg/s sustained, 0 429s, 0
   duplicates (a chat getting the same text twice), 0 missed. Sustained is (delivered - 30)
   / (first to last message): a moving window lets the first second's 30 go at once, so
   delivered / time overstates a short broadcast (300 messages take about 9 s, not 10). The
   rate from the commit, the most accepted in any second and each worker's share are shown.

In parts 1 and 2 the bot's own send budget is lifted (as in tests/e2e/test_workers.py): the
reactions and private messages a check-in triggers would otherwise queue behind 30 msg/s,
and the figure would be Telegram's limit rather than the workers' capacity.

Read the figures with the machine in mind: with 2 cores, 4 workers cannot scale beyond
about 2x, and PostgreSQL, Redis, the stand-in and the load generator compete for the same
cores (the load average at the start is printed). Compare the ratios, not the absolute rates.

The database's public schema is dropped: point ``--database-url`` at a database of its own.
Tables the models have and no migration creates yet (work in progress) are created from the
models after the migrations, and named in the output. The Redis keys are those of this
run's bot ids only (``hearth:<bot id>:*``), deleted at the end.
``--quick`` takes about two minutes, the full run about four (starting the workers takes
most of the difference on a busy machine); ``--logs DIR`` keeps the workers' logs.

Usage: python benchmarks/scale.py --database-url postgresql+asyncpg://… --redis-url redis://…
       [--updates 3000] [--connections 48] [--seconds 60] [--checkins 0.2]
       [--latency-seconds 20] [--rate R] [--recipients 900] [--logs DIR] [--quick]
       (the URLs default to HEARTH_BENCH_DATABASE_URL and HEARTH_BENCH_REDIS_URL)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from hearth.bot.metrics import MULTIPROCESS_ENV
from hearth.bot.notifier import message
from hearth.bot.operations import METRICS_SYNC_SECONDS
from hearth.domain.delivery import Priority
from hearth.domain.members import Person
from hearth.simulate import updates
from hearth.simulate.botapi import BotApiStandIn, RateLimits
from hearth.simulate.worker_processes import children, free_port, serving
from hearth.storage import tables  # noqa: F401 - registers every table on the metadata
from hearth.storage.engine import create_engine, unit_of_work_factory
from hearth.storage.migrate import upgrade_database

JsonDict = dict[str, Any]

SECRET = "scale-bench-secret"
HOOK_PATH = "/hook"
GROUP = updates.group(-1002000000909, "Scale Bench Riders")
OWNER = updates.user(4_100_000, "Owner")
MODERATOR = updates.user(4_100_001, "Mona")
FIRST_MEMBER = 4_200_000
FIRST_RECIPIENT = 4_800_000
BROADCAST_TEXT = "The spring rally starts on Saturday at 09:00, see you there!"
TELEGRAM_RATE = 30.0  # messages a second, all chats together
# The bot's own budget lifted: the throughput is the workers', not Telegram's limit.
UNLIMITED = {
    "HEARTH_MESSAGES_PER_SECOND": "100000",
    "HEARTH_PRIVATE_MESSAGES_PER_SECOND": "100000",
    "HEARTH_GROUP_MESSAGES_PER_MINUTE": "1000000",
}
CHATTER = (
    "Morning, everyone!",
    "Anyone riding out this weekend?",
    "Great photos from Saturday 👏",
    "Does anyone know a good mechanic near the river?",
    "The new tyres are worth every penny.",
    "Count me in for Sunday.",
    "What time do we meet at the petrol station?",
    "Thanks for organising, that was fun!",
    "Rain forecast for tomorrow, bring a jacket.",
    "Welcome to the new members 👋",
)
POST_TIMEOUT = aiohttp.ClientTimeout(total=60)
HEADERS = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}


# ----------------------------------------------------------------------------- the traffic


def member(index: int) -> JsonDict:
    return updates.user(FIRST_MEMBER + index, f"Rider {index}")


@dataclass
class Traffic:
    """Raw updates, serialised once (the generator should spend its CPU on sending)."""

    bodies: list[bytes] = field(default_factory=list)
    checkin: list[bool] = field(default_factory=list)  # which of them are /checkin

    def add(self, update: JsonDict, *, is_checkin: bool = False) -> None:
        self.bodies.append(json.dumps(update).encode())
        self.checkin.append(is_checkin)

    def checkins_among_first(self, count: int) -> int:
        return sum(self.checkin[:count])


class UpdateIds:
    """update_id and message_id for every update of one deployment, never repeated."""

    def __init__(self) -> None:
        self.next = 1

    def take(self) -> int:
        taken, self.next = self.next, self.next + 1
        return taken


def registration(people: list[JsonDict], ids: UpdateIds) -> Traffic:
    """One hello in the group from every member (registers them), untimed."""
    traffic = Traffic()
    now = datetime.now(UTC)
    for person in people:
        number = ids.take()
        traffic.add(
            updates.message(GROUP, person, "Hi all!", now, message_id=number, update_id=number)
        )
    return traffic


def group_traffic(
    people: list[JsonDict], count: int, share: float, ids: UpdateIds, rng: random.Random
) -> Traffic:
    """``count`` group updates: chatter (a sixth of it replies) and ``/checkin`` with
    probability ``share``, each check-in by a member who has not checked in yet."""
    traffic = Traffic()
    now = datetime.now(UTC)
    to_check_in = deque(rng.sample(people, len(people)))
    for _ in range(count):
        number = ids.take()
        if to_check_in and rng.random() < share:
            person = to_check_in.popleft()
            update = updates.message(
                GROUP, person, "/checkin", now, message_id=number, update_id=number
            )
            traffic.add(update, is_checkin=True)
            continue
        person = rng.choice(people)
        extra: JsonDict = {}
        if rng.random() < 1 / 6 and number > 1:
            extra["reply_to"] = {
                "message_id": rng.randrange(1, number),
                "date": updates.timestamp(now),
                "chat": GROUP,
                "from": rng.choice(people),
                "text": rng.choice(CHATTER),
            }
        text_ = rng.choice(CHATTER)
        traffic.add(
            updates.message(GROUP, person, text_, now, message_id=number, update_id=number, **extra)
        )
    return traffic


# ----------------------------------------------------------------------- the load generator


@dataclass
class Posted:
    """What one load produced: round trips of the answered posts, and what failed."""

    latencies: list[float] = field(default_factory=list)  # seconds, answered 200
    lags: list[float] = field(default_factory=list)  # open loop: start minus planned start
    sent: int = 0
    errors: int = 0
    first_error: str | None = None
    elapsed: float = 0.0  # first send to last answer

    @property
    def answered(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.answered / self.elapsed if self.elapsed > 0 else 0.0

    def failed(self, reason: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or reason


async def _post(client: aiohttp.ClientSession, url: str, body: bytes, posted: Posted) -> None:
    posted.sent += 1
    started = time.perf_counter()
    try:
        async with client.post(url, data=body, headers=HEADERS, timeout=POST_TIMEOUT) as answer:
            await answer.read()
            if answer.status != 200:
                posted.failed(f"HTTP {answer.status}")
                return
    except (aiohttp.ClientError, TimeoutError) as error:
        posted.failed(f"{type(error).__name__}: {error}")
        return
    posted.latencies.append(time.perf_counter() - started)


async def closed_loop(url: str, bodies: list[bytes], connections: int, cap: float) -> Posted:
    """``connections`` senders, each posting the next update once its last was answered;
    nothing new is sent after ``cap`` seconds."""
    waiting = deque(bodies)
    posted = Posted()
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as client:
        started = time.perf_counter()
        deadline = started + cap

        async def sender() -> None:
            while waiting and time.perf_counter() < deadline:
                await _post(client, url, waiting.popleft(), posted)

        await asyncio.gather(*(sender() for _ in range(connections)))
        posted.elapsed = time.perf_counter() - started
    return posted


async def open_loop(url: str, bodies: list[bytes], rate: float) -> Posted:
    """Start each post at its planned time (``rate`` a second), never waiting for answers."""
    posted = Posted()
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def one(body: bytes, planned: float) -> None:
            posted.lags.append(time.perf_counter() - planned)
            await _post(client, url, body, posted)

        tasks: list[asyncio.Task[None]] = []
        origin = time.perf_counter() + 0.05
        for index, body in enumerate(bodies):
            planned = origin + index / rate
            delay = planned - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body, planned)))
        await asyncio.gather(*tasks)
        posted.elapsed = time.perf_counter() - origin
    return posted


# ---------------------------------------------------------------------------- the workers


class Deployment:
    """`hearth run --workers N` as a subprocess, its worker processes and its endpoints."""

    def __init__(
        self, process: asyncio.subprocess.Process, workers: int, port: int, log: Path
    ) -> None:
        self.process = process
        self.workers = workers
        self.port = port
        self.log = log
        self.base = f"http://127.0.0.1:{port}"
        self.hook = f"{self.base}{HOOK_PATH}"

    def worker_pids(self) -> set[int]:
        """The processes handling updates (with one worker, `hearth run` itself)."""
        if self.workers == 1:
            return {self.process.pid}
        return children(self.process.pid)

    def serving(self) -> set[int]:
        """Worker processes listening on the webhook port."""
        return serving(self.worker_pids(), self.port)

    async def get(self, path: str) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as client,
            client.get(f"{self.base}{path}", timeout=aiohttp.ClientTimeout(10)) as answer,
        ):
            return answer.status, await answer.text()

    async def metrics(self) -> str:
        status, body = await self.get("/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        return body

    async def wait_ready(self, seconds: float = 120) -> None:
        """Until every worker listens and /healthz is 200 with a scheduler leader."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise RuntimeError(f"hearth run exited early:\n{self.tail()}")
            if len(self.serving()) == self.workers:
                with suppress(aiohttp.ClientError, TimeoutError, ValueError):
                    status, body = await self.get("/healthz")
                    if status == 200 and json.loads(body)["scheduler_leader"] == "elected":
                        return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the workers were not ready after {seconds:g} s:\n{self.tail()}")

    def metrics_folder(self) -> Path | None:
        """The workers' shared Prometheus folder (None with one worker: in memory)."""
        for pid in self.worker_pids():
            with suppress(OSError):
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                for entry in environ:
                    name, _, value = entry.decode(errors="replace").partition("=")
                    if name == MULTIPROCESS_ENV:
                        return Path(value)
        return None

    def per_worker(self, sample: str) -> list[float]:
        """One counter's value in each live worker's own file, largest first."""
        folder = self.metrics_folder()
        if folder is None:
            return []
        values: list[float] = []
        for pid in self.worker_pids():
            path = folder / f"counter_{pid}.db"
            if not path.exists():
                values.append(0.0)
                continue
            merged = MultiProcessCollector.merge([str(path)], accumulate=True)  # type: ignore[no-untyped-call]
            values.append(
                sum(
                    found.value
                    for metric in merged
                    for found in metric.samples
                    if found.name == sample
                )
            )
        return sorted(values, reverse=True)

    def errors_logged(self) -> int:
        return sum(" ERROR " in line for line in self.log.read_text(errors="replace").splitlines())

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    async def stop(self) -> None:
        """SIGTERM (the supervisor stops its workers), then SIGKILL whatever is left."""
        process = self.process
        workers = self.worker_pids() if self.workers > 1 else set()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=60)
        except TimeoutError:
            process.kill()
            await process.wait()
        for pid in workers:
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@asynccontextmanager
async def deployment(
    api: BotApiStandIn,
    workers: int,
    folder: Path,
    urls: Urls,
    extra: dict[str, str] | None = None,
) -> AsyncIterator[Deployment]:
    """Start `hearth run --workers N` against the stand-in; stopped whatever happens."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HEARTH_") and key != MULTIPROCESS_ENV
    }
    env.update(
        HEARTH_BOT_TOKEN=api.token,
        HEARTH_TELEGRAM_API_BASE=api.base_url,
        HEARTH_DATABASE_URL=urls.database,
        HEARTH_REDIS_URL=urls.redis,
        HEARTH_WEBHOOK_URL=f"https://bench.example{HOOK_PATH}",
        HEARTH_WEBHOOK_SECRET=SECRET,
        HEARTH_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        HEARTH_LOG_LEVEL="WARNING",
        **(extra or {}),
    )
    log = folder / f"workers-{workers}-{port}.log"
    with log.open("wb") as output:  # a file, not a pipe: nobody reads while they run
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "hearth", "run", "--workers", str(workers)),
            env=env,
            cwd=folder,  # no .env of the checkout
            stdout=output,
            stderr=output,
        )
    running = Deployment(process, workers, port, log)
    try:
        await running.wait_ready()
        yield running
    finally:
        await running.stop()


# --------------------------------------------------------------------------- the database


@dataclass(frozen=True)
class Urls:
    database: str
    redis: str


async def fresh_schema(url: str) -> list[str]:
    """An empty public schema, migrated to the newest revision (as `hearth migrate`); tables
    the models have and no migration creates yet (work in progress) are created from the
    models, and named in the result."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await asyncio.to_thread(upgrade_database, url)
        async with engine.begin() as connection:
            migrated = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
            missing = [name for name in SQLModel.metadata.tables if name not in migrated]
            await connection.run_sync(SQLModel.metadata.create_all)
    finally:
        await engine.dispose()
    return sorted(missing)


async def scalar(url: str, query: str) -> int:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(text(query)) or 0)
    finally:
        await engine.dispose()


async def execute(url: str, query: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(query))
    finally:
        await engine.dispose()


async def forget_redis_keys(url: str, bot_ids: Iterable[int]) -> None:
    redis = Redis.from_url(url)
    try:
        for bot_id in bot_ids:
            async for key in redis.scan_iter(f"hearth:{bot_id}:*"):
                await redis.delete(key)
    finally:
        await redis.aclose()


def new_stand_in(bot_ids: list[int]) -> BotApiStandIn:
    """A stand-in with a bot id of its own: its Redis keys are this part's alone."""
    bot_id = 700_000_000 + secrets.randbelow(99_999_999)
    bot_ids.append(bot_id)
    api = BotApiStandIn(token=f"{bot_id}:SCALE-BENCH")
    api.set_chat(GROUP)
    api.set_admins(GROUP["id"], [{**OWNER, "status": "creator"}, MODERATOR])
    return api


async def prepare_community(
    running: Deployment, api: BotApiStandIn, urls: Urls, people: list[JsonDict], ids: UpdateIds
) -> None:
    """Through the webhook: the bot added as administrator, then a hello from every member;
    then every member is marked as having started the bot (no welcome messages sent)."""
    number = ids.take()
    added = updates.chat_member_update(
        GROUP,
        api.bot_user,
        "left",
        "administrator",
        datetime.now(UTC),
        actor=OWNER,
        kind="my_chat_member",
        update_id=number,
    )
    for body_list in ([json.dumps(added).encode()], registration(people, ids).bodies):
        posted = await closed_loop(running.hook, body_list, 16, cap=300)
        if posted.errors or posted.answered != len(body_list):
            raise RuntimeError(f"setting up the community failed: {posted.first_error}")
    await execute(urls.database, "UPDATE member SET started_bot = true")


# ------------------------------------------------------------------------------- figures


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[round(q * 100) - 1]


def sample_sum(exposition: str, sample: str) -> float:
    return sum(
        found.value
        for family in text_string_to_metric_families(exposition)
        for found in family.samples
        if found.name == sample
    )


def buckets(exposition: str) -> dict[float, float]:
    """``hearth_update_seconds`` as cumulative counts by upper bound."""
    return {
        float(found.labels["le"]): found.value
        for family in text_string_to_metric_families(exposition)
        for found in family.samples
        if found.name == "hearth_update_seconds_bucket"
    }


def histogram_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The ``q`` quantile of what was observed between two scrapes, linear in its bucket."""
    bounds = sorted(after)
    cumulative = [after[bound] - before.get(bound, 0.0) for bound in bounds]
    if not cumulative or cumulative[-1] <= 0:
        return float("nan")
    rank = q * cumulative[-1]
    lower, below = 0.0, 0.0
    for bound, count in zip(bounds, cumulative, strict=True):
        if count >= rank:
            if math.isinf(bound):
                return lower  # beyond the last bucket: at least this
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = bound, count
    return lower


def busiest_second(stamps: list[float]) -> int:
    """The most stamps in any window of one second."""
    ordered = sorted(stamps)
    most, oldest = 0, 0
    for newest, stamp in enumerate(ordered):
        while ordered[oldest] <= stamp - 1.0:
            oldest += 1
        most = max(most, newest - oldest + 1)
    return most


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def say(line: str = "") -> None:
    print(line, flush=True)


# ------------------------------------------------------------------------------ the parts


@dataclass
class Throughput:
    workers: int
    posted: Posted
    checkins_sent: int
    checkins_stored: int
    handled: float  # hearth_updates_total, the community set-up included
    expected_handled: int
    spread: list[float]  # updates handled by each worker, largest first
    errors_logged: int
    ready_after: float  # seconds from `hearth run` to every worker serving


@dataclass
class Latency:
    offered: float
    posted: Posted
    handler_p50: float
    handler_p99: float
    checkins_sent: int
    checkins_stored: int
    errors_logged: int


async def measure(
    workers: int, options: Options, folder: Path, bot_ids: list[int], latency_rate: float | None
) -> tuple[Throughput, Latency | None]:
    """One deployment of ``workers``: first the open-loop latency load at ``latency_rate``
    (if given), then the closed-loop throughput load, each with check-ins of its own
    members."""
    urls = options.urls
    await fresh_schema(urls.database)
    rng = random.Random(7)
    people = [member(index) for index in range(options.members)]
    timed_count = round((latency_rate or 0) * options.latency_seconds)
    timed_people = [
        member(len(people) + index)
        for index in range(math.ceil(timed_count * options.checkins * 1.25) + 1)
    ]
    started = time.perf_counter()
    async with (
        new_stand_in(bot_ids) as api,
        deployment(api, workers, folder, urls, UNLIMITED) as running,
    ):
        ready_after = time.perf_counter() - started
        ids = UpdateIds()
        await prepare_community(running, api, urls, people + timed_people, ids)
        timed = None
        if latency_rate is not None:
            timed = await _latency(running, options, timed_people, timed_count, latency_rate, ids)
        traffic = group_traffic(people, options.updates, options.checkins, ids, rng)
        stored_before = await scalar(urls.database, "SELECT count(*) FROM checkin")
        logged_before = running.errors_logged()
        posted = await closed_loop(
            running.hook, traffic.bodies, options.connections, options.seconds
        )
        await asyncio.sleep(1)  # the activity buffers are flushed twice a second
        handled = sample_sum(await running.metrics(), "hearth_updates_total")
        stored = await scalar(urls.database, "SELECT count(*) FROM checkin")
        result = Throughput(
            workers=workers,
            posted=posted,
            checkins_sent=traffic.checkins_among_first(posted.sent),
            checkins_stored=stored - stored_before,
            handled=handled,
            expected_handled=ids.next - 1 - len(traffic.bodies) + posted.answered,
            spread=running.per_worker("hearth_updates_total"),
            errors_logged=running.errors_logged() - logged_before,
            ready_after=ready_after,
        )
    _print_throughput(result)
    return result, timed


def _print_throughput(result: Throughput) -> None:
    posted = result.posted
    say(
        f"  {result.workers} worker(s) (ready {result.ready_after:.0f} s after the start): "
        f"{posted.answered} updates answered in {posted.elapsed:.1f} s = "
        f"{posted.rate:.1f} updates/s; round trip p50 {ms(quantile(posted.latencies, 0.5))} "
        f"ms, p99 {ms(quantile(posted.latencies, 0.99))} ms"
    )
    spread = "/".join(f"{value:.0f}" for value in result.spread) or "one process"
    say(
        f"    errors {posted.errors}{f' ({posted.first_error})' if posted.first_error else ''}, "
        f"errors logged {result.errors_logged}; check-ins stored "
        f"{result.checkins_stored}/{result.checkins_sent}; handled per /metrics "
        f"{result.handled:.0f} (expected {result.expected_handled}); per worker {spread}"
    )


async def _latency(
    running: Deployment,
    options: Options,
    people: list[JsonDict],
    count: int,
    rate: float,
    ids: UpdateIds,
) -> Latency:
    urls = options.urls
    traffic = group_traffic(people, count, options.checkins, ids, random.Random(11))
    await asyncio.sleep(1)  # the set-up's activity is written before the clock starts
    stored_before = await scalar(urls.database, "SELECT count(*) FROM checkin")
    logged_before = running.errors_logged()
    before = buckets(await running.metrics())
    posted = await open_loop(running.hook, traffic.bodies, rate)
    after = buckets(await running.metrics())
    await asyncio.sleep(1)
    result = Latency(
        offered=rate,
        posted=posted,
        handler_p50=histogram_quantile(before, after, 0.5),
        handler_p99=histogram_quantile(before, after, 0.99),
        checkins_sent=traffic.checkins_among_first(posted.sent),
        checkins_stored=await scalar(urls.database, "SELECT count(*) FROM checkin") - stored_before,
        errors_logged=running.errors_logged() - logged_before,
    )
    say(
        f"  {running.workers} workers, {rate:.1f} updates/s offered (open loop) for "
        f"{posted.elapsed:.1f} s: {posted.rate:.1f}/s answered, errors {posted.errors}, "
        f"errors logged {result.errors_logged}, check-ins stored {result.checkins_stored}/"
        f"{result.checkins_sent}"
    )
    say(
        f"    round trip p50 {ms(quantile(posted.latencies, 0.5))} ms, p90 "
        f"{ms(quantile(posted.latencies, 0.9))} ms, p99 {ms(quantile(posted.latencies, 0.99))}"
        f" ms, max {ms(max(posted.latencies, default=float('nan')))} ms"
    )
    say(
        f"    handler (/metrics histogram) p50 {ms(result.handler_p50)} ms, p99 "
        f"{ms(result.handler_p99)} ms; generator start lag p99 "
        f"{ms(quantile(posted.lags, 0.99))} ms"
    )
    return result


@dataclass
class Outbox:
    recipients: int
    delivered: int
    elapsed: float  # commit to the last message
    sustained: float  # msg/s the window kept up: (delivered - one second's worth) / (last - first)
    busiest: int  # most messages the stand-in accepted in any 1 s
    violations: int  # 429s the stand-in answered
    received_429: float  # hearth_telegram_429_total
    duplicates: int
    missed: int
    spread: list[float]  # messages each worker sent, largest first

    @property
    def achieved(self) -> float:
        return self.delivered / self.elapsed if self.elapsed > 0 else 0.0


async def queue_broadcast(url: str, recipients: range) -> None:
    """Members who started the bot, and one announcement queued to each (one transaction)."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        async with unit_of_work_factory(engine)() as uow:
            await uow.communities.add(
                GROUP["id"], GROUP["title"], timezone="UTC", locale="en", now=now
            )
            await uow.members.upsert_many([Person(chat, f"R{chat}") for chat in recipients], now)
            await uow.session.execute(text("UPDATE member SET started_bot = true"))
            for chat in recipients:
                await uow.outbox.add(
                    message(
                        f"announcement:scale:{chat}",
                        chat,
                        BROADCAST_TEXT,
                        kind="announcement",
                        priority=Priority.BROADCAST,
                        community_id=GROUP["id"],
                        member_id=chat,
                    ),
                    now,
                )
            await uow.commit()
    finally:
        await engine.dispose()


async def outbox(options: Options, folder: Path, bot_ids: list[int]) -> Outbox:
    urls = options.urls
    await fresh_schema(urls.database)
    recipients = range(FIRST_RECIPIENT, FIRST_RECIPIENT + options.recipients)
    arrivals: list[float] = []
    async with (
        new_stand_in(bot_ids) as api,
        deployment(api, 2, folder, urls) as running,  # the bot's own limits: Telegram's
    ):
        api.enforce_limits(RateLimits(per_second=TELEGRAM_RATE, per_chat_per_second=1))
        everyone = asyncio.Event()

        def arrived(_message: JsonDict) -> None:
            arrivals.append(time.perf_counter())
            if len(arrivals) >= len(recipients):
                everyone.set()

        api.on_delivered(arrived)
        await queue_broadcast(urls.database, recipients)
        committed = time.perf_counter()
        with suppress(TimeoutError):  # something is stuck: report what arrived
            await asyncio.wait_for(everyone.wait(), len(recipients) / TELEGRAM_RATE * 3 + 30)
        # Each worker adds its figures to its Prometheus file every few seconds.
        await asyncio.sleep(METRICS_SYNC_SECONDS + 1)
        received = Counter(
            item["chat"]["id"] for item in api.delivered if item.get("text") == BROADCAST_TEXT
        )
        first, last = (arrivals[0], arrivals[-1]) if arrivals else (committed, committed)
        result = Outbox(
            recipients=len(recipients),
            delivered=sum(received.values()),
            elapsed=last - committed,
            sustained=(len(arrivals) - TELEGRAM_RATE) / (last - first) if last > first else 0.0,
            busiest=busiest_second(arrivals),
            violations=api.limit_violations,
            received_429=sample_sum(await running.metrics(), "hearth_telegram_429_total"),
            duplicates=sum(count - 1 for count in received.values() if count > 1),
            missed=sum(1 for chat in recipients if not received[chat]),
            spread=running.per_worker("hearth_outbox_sent_total"),
        )
    say(
        f"  2 workers, {result.recipients} private messages, stand-in enforcing "
        f"{TELEGRAM_RATE:g} msg/s and 1/s per chat:"
    )
    say(
        f"    {result.delivered} delivered in {result.elapsed:.1f} s after the commit "
        f"({result.achieved:.2f} msg/s); sustained {result.sustained:.2f} msg/s = "
        f"{result.sustained / TELEGRAM_RATE:.3f} x the limit (goal 0.9 to 1.0); most in any "
        f"1 s {result.busiest}"
    )
    say(
        f"    429s answered {result.violations} (workers counted {result.received_429:.0f}; "
        f"goal 0), duplicates {result.duplicates} (must be 0), missed {result.missed}; "
        f"sent per worker {'/'.join(f'{value:.0f}' for value in result.spread)}"
    )
    return result


# ---------------------------------------------------------------------------------- main


@dataclass(frozen=True)
class Options:
    urls: Urls
    updates: int
    members: int
    connections: int
    seconds: float
    checkins: float
    latency_seconds: float
    rate: float | None
    recipients: int
    logs: Path | None


def _summary(runs: list[Throughput], timed: Latency, sent: Outbox, load: float) -> None:
    base = runs[0].posted.rate
    say()
    say(f"summary ({os.cpu_count()} cores, load average {load:.1f} at the start)")
    say("  workers  updates/s  x 1 worker  errors  check-ins stored  per worker")
    for run in runs:
        ratio = run.posted.rate / base if base > 0 else float("nan")
        spread = "/".join(f"{value:.0f}" for value in run.spread) or "-"
        say(
            f"  {run.workers:>7}  {run.posted.rate:>9.1f}  {ratio:>10.2f}  "
            f"{run.posted.errors + run.errors_logged:>6}  "
            f"{f'{run.checkins_stored}/{run.checkins_sent}':>16}  {spread}"
        )
    posted = timed.posted
    say(
        f"  latency, 2 workers at {timed.offered:.1f}/s (open loop): round trip p50 "
        f"{ms(quantile(posted.latencies, 0.5))} ms, p99 {ms(quantile(posted.latencies, 0.99))}"
        f" ms; handler p50 {ms(timed.handler_p50)} ms, p99 {ms(timed.handler_p99)} ms; "
        f"errors {posted.errors + timed.errors_logged}"
    )
    say(
        f"  outbox, 2 workers, {sent.recipients} messages: sustained {sent.sustained:.2f} "
        f"msg/s = {sent.sustained / TELEGRAM_RATE:.3f} x {TELEGRAM_RATE:g} (goal 0.9 to 1.0), "
        f"most in 1 s {sent.busiest}, 429s {sent.violations}, duplicates "
        f"{sent.duplicates}, missed {sent.missed}, per worker "
        f"{'/'.join(f'{value:.0f}' for value in sent.spread)}"
    )


async def run_scale_benchmark(options: Options) -> None:
    load = os.getloadavg()[0]
    bot_ids: list[int] = []
    say(
        f"scale: {options.updates} group updates ({options.checkins:.0%} /checkin by distinct "
        f"members, {options.members}+ members) over {options.connections} connections, "
        f"at most {options.seconds:g} s each; {os.cpu_count()} cores, load average {load:.1f}"
    )
    try:
        with tempfile.TemporaryDirectory(prefix="hearth-scale-") as name:
            folder = options.logs or Path(name)
            missing = await fresh_schema(options.urls.database)
            if missing:
                say(f"  (no migration yet, created from the models: {', '.join(missing)})")
            say("throughput (closed loop); with 2 workers, first the latency (open loop)")
            one, _ = await measure(1, options, folder, bot_ids, None)
            rate = options.rate or max(one.posted.rate / 2, 1.0)
            two, timed = await measure(2, options, folder, bot_ids, rate)
            four, _ = await measure(4, options, folder, bot_ids, None)
            runs = [one, two, four]
            base = one.posted.rate
            say(
                "  scaling: "
                + ", ".join(
                    f"{run.workers}/1 = {run.posted.rate / base if base > 0 else math.nan:.2f}"
                    for run in runs[1:]
                )
            )
            say("outbox (shared send budget)")
            sent = await outbox(options, folder, bot_ids)
            assert timed is not None
            _summary(runs, timed, sent, load)
    finally:
        await forget_redis_keys(options.urls.redis, bot_ids)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("HEARTH_BENCH_DATABASE_URL"),
        help="PostgreSQL database of its own: its public schema is dropped",
    )
    parser.add_argument("--redis-url", default=os.environ.get("HEARTH_BENCH_REDIS_URL"))
    parser.add_argument("--updates", type=int, default=3000, help="updates per worker count")
    parser.add_argument("--connections", type=int, default=48, help="concurrent POSTs")
    parser.add_argument("--seconds", type=float, default=60, help="time cap per worker count")
    parser.add_argument("--checkins", type=float, default=0.2, help="share of /checkin")
    parser.add_argument("--latency-seconds", type=float, default=20)
    parser.add_argument(
        "--rate", type=float, default=None, help="offered load (default: half of 1 worker's)"
    )
    parser.add_argument("--recipients", type=int, default=900, help="broadcast recipients")
    parser.add_argument("--logs", type=Path, help="keep the workers' logs in this folder")
    parser.add_argument("--quick", action="store_true", help="a short run")
    arguments = parser.parse_args()
    if not arguments.database_url or not arguments.redis_url:
        parser.error("--database-url and --redis-url are needed (or HEARTH_BENCH_*_URL)")
    if make_url(arguments.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url must be a PostgreSQL URL (workers share it)")
    if not 0 <= arguments.checkins <= 1:
        parser.error("--checkins is a share between 0 and 1")
    if (
        min(arguments.updates, arguments.connections, arguments.recipients) < 1
        or min(arguments.seconds, arguments.latency_seconds) <= 0
    ):
        parser.error("counts and durations must be positive")
    if arguments.quick:
        arguments.updates = min(arguments.updates, 1000)
        arguments.seconds = min(arguments.seconds, 20)
        arguments.latency_seconds = min(arguments.latency_seconds, 8)
        arguments.recipients = min(arguments.recipients, 300)
    options = Options(
        urls=Urls(arguments.database_url, arguments.redis_url),
        updates=arguments.updates,
        members=max(200, math.ceil(arguments.updates * arguments.checkins * 1.25)),
        connections=arguments.connections,
        seconds=arguments.seconds,
        checkins=arguments.checkins,
        latency_seconds=arguments.latency_seconds,
        rate=arguments.rate,
        recipients=arguments.recipients,
        logs=arguments.logs,
    )
    if arguments.logs is not None:
        arguments.logs.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(run_scale_benchmark(options))
    except KeyboardInterrupt:
        say("interrupted: the workers were stopped")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
