"""End to end with real worker processes: `hearth run --workers 2` on PostgreSQL and Redis.

The test plays Telegram: it posts updates to the webhook and, like Telegram, posts an update
again when the answer does not come (connection reset, error status). A worker answers only
after it handled the update, so an update whose worker died is retried and handled by
another worker once the dead worker's claim has run out (``HEARTH_UPDATE_LEASE_SECONDS``).

- A worker is killed (SIGKILL) in the middle of a stream of check-ins, and another in the
  middle of a broadcast: every check-in is credited exactly once, no member gets the
  broadcast twice, everything but the few messages in doubt is delivered, and the
  supervisor starts the killed workers again.
- The workers' database connections are terminated while they handle check-ins: each
  check-in is applied whole or answered with an apology, never half; the workers recover
  by themselves and a scheduler leader is elected again.

Worker processes are found through ``/proc``: the supervisor's children, and the sockets
listening on the webhook port they hold.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from alembic import command
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from hearth.bot.notifier import message
from hearth.domain.delivery import OutboxStatus
from hearth.domain.members import Person
from hearth.simulate import updates
from hearth.simulate.botapi import BotApiStandIn
from hearth.simulate.worker_processes import children, free_port, serving
from hearth.storage.engine import create_engine, unit_of_work_factory
from hearth.storage.migrate import alembic_config
from tests.conftest import POSTGRES_URL, REDIS_URL, fresh_schema

DATABASE_URL = (
    POSTGRES_URL
    if POSTGRES_URL and make_url(POSTGRES_URL).get_backend_name() == "postgresql"
    else None
)
pytestmark = pytest.mark.skipif(
    DATABASE_URL is None or REDIS_URL is None,
    reason="worker processes share PostgreSQL and Redis: set HEARTH_TEST_DATABASE_URL to a "
    "PostgreSQL URL and HEARTH_TEST_REDIS_URL",
)

SECRET = "workers-e2e-secret"
HOOK_PATH = "/hook"
GROUP = updates.group(-1002000000099, "Workers Owners")
CONCURRENCY = 4  # outbox messages in flight per worker: the most a kill leaves in doubt
UPDATE_LEASE_SECONDS = 5  # a dead worker's updates go to the others after this
OUTBOX_LEASE_SECONDS = 5  # and the outbox messages it had taken but not started
BROADCAST_TEXT = "The autumn rally starts on Sunday at 09:00!"
APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
FIRST_CHECKIN_REPLY = "checked in! Open Hearth in private"


# ------------------------------------------------------------------------ worker processes


async def wait_until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 180) -> None:
    """Wait (generously) for a condition another process makes true."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {seconds} s waiting until {what}") from None


class Workers:
    """`hearth run --workers 2` as a subprocess: its workers and its health."""

    def __init__(self, process: asyncio.subprocess.Process, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.health_url = f"http://127.0.0.1:{port}/healthz"

    def serving(self) -> set[int]:
        """Worker processes listening on the webhook port (started up and taking updates)."""
        return serving(children(self.process.pid), self.port)

    async def health(self) -> tuple[int, dict[str, Any]]:
        """``/healthz`` of whichever worker the kernel hands the connection to."""
        connector = aiohttp.TCPConnector(force_close=True)
        async with (
            aiohttp.ClientSession(connector=connector) as client,
            client.get(self.health_url, timeout=aiohttp.ClientTimeout(10)) as answer,
        ):
            return answer.status, await answer.json()

    async def healthy(self) -> bool:
        try:
            status, body = await self.health()
        except (aiohttp.ClientError, TimeoutError):
            return False
        return status == 200 and body["scheduler_leader"] == "elected"

    async def wait_for_workers(self, *, replacing: Iterable[int] = ()) -> set[int]:
        """Wait until two workers serve (none of them one of ``replacing``) and are healthy."""
        gone = set(replacing)

        async def ready() -> bool:
            assert self.process.returncode is None, self.tail()
            serving = self.serving()
            return len(serving) == 2 and not serving & gone and await self.healthy()

        await wait_until(ready, "two workers serve and /healthz is 200")
        return self.serving()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def restarts(self) -> int:
        """How many times the supervisor found a worker killed (SIGKILL) and restarted it."""
        return self.log.read_text(errors="replace").count("exited with -9; restarting")


@asynccontextmanager
async def hearth_workers(api: BotApiStandIn, folder: Path) -> AsyncIterator[Workers]:
    """Two webhook workers under one supervisor; stopped with SIGTERM, which must exit 0."""
    assert DATABASE_URL is not None
    assert REDIS_URL is not None
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HEARTH_")}
    env.update(
        HEARTH_BOT_TOKEN=api.token,
        HEARTH_TELEGRAM_API_BASE=api.base_url,
        HEARTH_DATABASE_URL=DATABASE_URL,
        HEARTH_REDIS_URL=REDIS_URL,
        HEARTH_WEBHOOK_URL=f"https://x.example{HOOK_PATH}",
        HEARTH_WEBHOOK_SECRET=SECRET,
        HEARTH_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        HEARTH_UPDATE_LEASE_SECONDS=str(UPDATE_LEASE_SECONDS),
        HEARTH_OUTBOX_LEASE_SECONDS=str(OUTBOX_LEASE_SECONDS),
        HEARTH_LEADER_RETRY_SECONDS="0.5",
        HEARTH_DELIVERY_CONCURRENCY=str(CONCURRENCY),
        # Telegram's limits are the delivery tests' business; here they would only wait.
        HEARTH_MESSAGES_PER_SECOND="100000",
        HEARTH_PRIVATE_MESSAGES_PER_SECOND="100000",
        HEARTH_GROUP_MESSAGES_PER_MINUTE="1000000",
    )
    log = folder / "workers.log"
    with log.open("wb") as output:  # a file, not a pipe: nobody reads while they run
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "hearth", "run", "--workers", "2"),
            env=env,
            cwd=folder,
            stdout=output,
            stderr=output,
        )
    workers = Workers(process, port, log)
    try:
        await workers.wait_for_workers()
        yield workers
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=60)
        finally:
            if process.returncode is None:
                process.kill()
                for pid in children(process.pid):
                    with suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
    assert process.returncode == 0, workers.tail()


# ------------------------------------------------------------------------- playing Telegram


@dataclass
class Telegram:
    """Posts updates to the webhook until each is answered 200, as Telegram does."""

    url: str
    answered: int = 0
    resent: int = 0  # posts that got no answer (connection lost) or an error: sent again

    async def deliver(self, batch: Iterable[dict[str, Any]], *, concurrency: int = 32) -> None:
        waiting = deque(batch)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as client:

            async def sender() -> None:
                while waiting:
                    await self._post(client, waiting.popleft())

            async with asyncio.timeout(300):
                await asyncio.gather(*(sender() for _ in range(concurrency)))

    async def _post(self, client: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        while True:
            try:
                async with client.post(
                    self.url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(60)
                ) as answer:
                    await answer.read()
                    if answer.status == 200:
                        self.answered += 1
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            self.resent += 1
            await asyncio.sleep(0.1)


def member(index: int, first: int) -> dict[str, Any]:
    return updates.user(first + index, f"M{index}")


def checkins(
    members: Iterable[dict[str, Any]], *, first_update_id: int, first_message_id: int
) -> list[dict[str, Any]]:
    """One /checkin in the group per member; the message id tells whom a reply is for."""
    now = datetime.now(UTC)
    return [
        updates.message(
            GROUP,
            person,
            "/checkin",
            now,
            message_id=first_message_id + offset,
            update_id=first_update_id + offset,
        )
        for offset, person in enumerate(members)
    ]


def replies_in_group(api: BotApiStandIn, containing: str) -> Counter[int]:
    """How many group replies with ``containing`` each of the members' messages got."""
    return Counter(
        call.params["reply_parameters"]["message_id"]
        for call in api.calls_of("sendMessage")
        if call.params.get("chat_id") == GROUP["id"]
        and containing in call.params.get("text", "")
        and isinstance(call.params.get("reply_parameters"), dict)
    )


# ------------------------------------------------------------------------------- database


@asynccontextmanager
async def fresh_database(api: BotApiStandIn) -> AsyncIterator[AsyncEngine]:
    """An empty Hearth database (the models' tables, marked as migrated) with the group in
    it; the workers' shared state in Redis is the bot's own (a bot id of the test's own)."""
    assert DATABASE_URL is not None
    assert REDIS_URL is not None
    engine = create_engine(DATABASE_URL)
    try:
        await fresh_schema(engine)
        await asyncio.to_thread(command.stamp, alembic_config(DATABASE_URL), "head")
        async with unit_of_work_factory(engine)() as uow:
            await uow.communities.add(
                GROUP["id"], GROUP["title"], timezone="UTC", locale="en", now=datetime.now(UTC)
            )
            await uow.commit()
        api.set_chat(GROUP)
        yield engine
    finally:
        await engine.dispose()
        redis = Redis.from_url(REDIS_URL)
        async for key in redis.scan_iter(f"hearth:{api.bot_id}:*"):
            await redis.delete(key)
        await redis.aclose()


async def rows(engine: AsyncEngine, query: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(text(query), params))


async def checked_in(engine: AsyncEngine) -> Counter[int]:
    """Check-in rows per member."""
    found = await rows(
        engine,
        "SELECT member_id, count(*) FROM checkin WHERE community_id = :g GROUP BY 1",
        g=GROUP["id"],
    )
    return Counter(dict(found))


async def assert_check_ins_whole(engine: AsyncEngine) -> None:
    """Every check-in row has exactly one check-in credit and one check-in activity, and
    no credit or activity is without its check-in: nothing half-applied, nothing doubled."""
    orphans = await rows(
        engine,
        """
        SELECT 'credit without check-in', p.member_id FROM points_entry p
        WHERE p.reason IN ('checkin', 'first_checkin') AND NOT EXISTS (
            SELECT 1 FROM checkin c WHERE c.community_id = p.community_id
            AND c.member_id = p.member_id
            AND p.idempotency_key = p.reason || ':' || c.community_id || ':' || c.member_id
                || ':' || to_char(c.local_day, 'YYYY-MM-DD'))
        UNION ALL
        SELECT 'check-in activity without check-in', a.member_id FROM activity a
        WHERE a.kind = 'checkin' AND NOT EXISTS (
            SELECT 1 FROM checkin c WHERE c.community_id = a.community_id
            AND c.member_id = a.member_id AND c.local_day = a.local_day)
        UNION ALL
        SELECT 'check-in without exactly one credit and one activity', c.member_id
        FROM checkin c WHERE
            (SELECT count(*) FROM points_entry p WHERE p.idempotency_key =
                'checkin:' || c.community_id || ':' || c.member_id || ':'
                || to_char(c.local_day, 'YYYY-MM-DD')) <> 1
            OR (SELECT count(*) FROM activity a WHERE a.kind = 'checkin'
                AND a.community_id = c.community_id AND a.member_id = c.member_id
                AND a.local_day = c.local_day) <> 1
        """,
    )
    assert orphans == []


async def broadcast_statuses(engine: AsyncEngine) -> Counter[str]:
    found = await rows(
        engine, "SELECT status, count(*) FROM outbox WHERE kind = 'announcement' GROUP BY 1"
    )
    return Counter(dict(found))


async def queue_broadcast(engine: AsyncEngine, recipients: range) -> None:
    """Members who started the bot, and one announcement queued to each of them."""
    now = datetime.now(UTC)
    async with unit_of_work_factory(engine)() as uow:
        await uow.members.upsert_many([Person(chat, f"R{chat}") for chat in recipients], now)
        await uow.session.execute(
            text("UPDATE member SET started_bot = true WHERE id >= :low AND id < :high"),
            {"low": recipients.start, "high": recipients.stop},
        )
        for chat in recipients:
            await uow.outbox.add(
                message(
                    f"announcement:9:{chat}",
                    chat,
                    BROADCAST_TEXT,
                    kind="announcement",
                    community_id=GROUP["id"],
                    member_id=chat,
                ),
                now,
            )
        await uow.commit()


# ---------------------------------------------------------------------------------- tests


async def test_killed_workers_lose_no_check_in_and_repeat_no_broadcast_message(
    tmp_path: Path,
):
    members = [member(index, 7_100_000) for index in range(240)]
    recipients = range(7_200_000, 7_200_600)
    bot_id = 700_000_000 + secrets.randbelow(99_999_999)  # Redis keys of this run's own
    async with (
        BotApiStandIn(token=f"{bot_id}:WORKERS-E2E") as api,
        fresh_database(api) as engine,
        hearth_workers(api, tmp_path) as workers,
    ):
        telegram = Telegram(f"http://127.0.0.1:{workers.port}{HOOK_PATH}")
        first_victim, second_victim = sorted(workers.serving())

        # 1. Killed while members check in: right after the 60th first-check-in reply.
        replies = 0

        def kill_midway(sent: dict[str, Any]) -> None:
            nonlocal replies
            if sent["chat"]["id"] == GROUP["id"] and FIRST_CHECKIN_REPLY in sent.get("text", ""):
                replies += 1
                if replies == 60:
                    os.kill(first_victim, signal.SIGKILL)

        api.on_delivered(kill_midway)
        await telegram.deliver(checkins(members, first_update_id=1, first_message_id=1))
        api.on_delivered(None)
        assert replies >= 60, workers.tail()
        assert telegram.resent > 0  # the kill cut off updates in flight: Telegram retried
        await workers.wait_for_workers(replacing={first_victim})

        everyone = {person["id"]: 1 for person in members}
        assert await checked_in(engine) == everyone
        await assert_check_ins_whole(engine)
        # No member was told twice (a retried update whose work was done says nothing), and
        # a worker dying is nothing the others apologise for.
        assert max(replies_in_group(api, FIRST_CHECKIN_REPLY).values()) == 1
        assert replies_in_group(api, APOLOGY) == Counter()

        # 2. Killed while a broadcast to 600 members goes out: after the 150th message.
        api.kill_after_delivering(150, second_victim)
        await queue_broadcast(engine, recipients)

        async def settled() -> bool:
            statuses = await broadcast_statuses(engine)
            in_doubt = statuses[OutboxStatus.SENDING]
            return (
                statuses[OutboxStatus.SENT] + in_doubt == len(recipients)
                and in_doubt <= CONCURRENCY
            )

        await wait_until(settled, "the broadcast was sent")
        await workers.wait_for_workers(replacing={first_victim, second_victim})
        outcome = dict(
            await rows(engine, "SELECT chat_id, status FROM outbox WHERE kind = 'announcement'")
        )

    received = Counter(
        sent["chat"]["id"] for sent in api.delivered if sent.get("text") == BROADCAST_TEXT
    )
    assert {chat: count for chat, count in received.items() if count > 1} == {}
    assert {chat: received[chat] for chat, status in outcome.items() if status == "sent"} == {
        chat: 1 for chat, status in outcome.items() if status == "sent"
    }
    in_doubt = [chat for chat, status in outcome.items() if status == "sending"]
    assert len(in_doubt) <= CONCURRENCY  # what the killed worker was sending at that moment
    assert sorted(outcome) == list(recipients)
    assert set(outcome.values()) <= {"sent", "sending"}
    assert workers.restarts() == 2


async def test_terminated_database_connections_never_half_apply_a_check_in(tmp_path: Path):
    members = [member(index, 7_300_000) for index in range(300)]
    bot_id = 700_000_000 + secrets.randbelow(99_999_999)
    assert DATABASE_URL is not None
    async with (
        BotApiStandIn(token=f"{bot_id}:WORKERS-E2E") as api,
        fresh_database(api) as engine,
        hearth_workers(api, tmp_path) as workers,
    ):
        telegram = Telegram(f"http://127.0.0.1:{workers.port}{HOOK_PATH}")
        terminated: list[int] = []

        async def terminate_connections_at(*progress: int) -> None:
            """Terminate every other connection to the database (the workers' pools and the
            scheduler leader's lock) when that many check-ins were answered."""
            async with engine.connect() as connection:
                for answered in progress:

                    async def reached(answered: int = answered) -> bool:
                        return telegram.answered >= answered

                    await wait_until(reached, f"{answered} check-ins were answered")
                    killed = await connection.scalar(
                        text(
                            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                            "FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        )
                    )
                    await connection.commit()
                    terminated.append(int(killed or 0))

        faults = asyncio.create_task(terminate_connections_at(60, 150, 220))
        try:
            await telegram.deliver(
                checkins(members, first_update_id=1, first_message_id=1), concurrency=16
            )
            await faults
        finally:
            faults.cancel()
        assert all(terminated), terminated  # each time the workers had connections to lose

        # Each check-in was applied whole or apologised for.
        apologies = replies_in_group(api, APOLOGY)
        assert max(apologies.values(), default=1) == 1
        done = await checked_in(engine)
        missing = {index + 1 for index, person in enumerate(members) if not done[person["id"]]}
        assert missing <= set(apologies)
        await assert_check_ins_whole(engine)

        # The workers recovered by themselves: healthy, with a scheduler leader again, and
        # whoever was apologised to checks in now.
        await workers.wait_for_workers()
        again = [members[message_id - 1] for message_id in apologies]
        await telegram.deliver(checkins(again, first_update_id=10_001, first_message_id=10_001))
        assert await checked_in(engine) == {person["id"]: 1 for person in members}
        await assert_check_ins_whole(engine)
        assert max(replies_in_group(api, APOLOGY).values(), default=1) == 1
