"""Console benchmark: the overview page of a 10,000-member community with 1,000,000 activity rows.

Seeds a temporary SQLite file with one community (the synthetic habits of
``benchmarks/lifecycle.py``: steady, fading, occasional, new, gone, left), its points,
events, redemptions and quiz answers, and runs the nightly recompute once a week over the
last eight weeks (the stage chart reads those standings). Then it serves the real console
(``hearth.console``, with its read-only SQLite connections, as ``hearth run`` wires it) on
aiohttp's test server and times the signed-in operator's GET of the
overview over HTTP: the headline figures against the previous 30 days, the 8-week daily
active and stage series and the cohort heat map, rendered by the templates. As a baseline
it times, in the same run, the console's signed-out page (the same server, middleware and
template machinery, no figures). The overview's figures are kept for 5 minutes per
community: it times views that compute them (the kept figures cleared before each) and
views that find them kept. The goal: the overview under 300 ms.

Usage: python benchmarks/console.py [--members 10000] [--rows 1000000] [--requests 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from aiogram import Bot
from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hearth.bot.notifier import OutboxWriter, PrivateNotifier
from hearth.bot.operators import ChatAdminOperators
from hearth.console.app import COOKIE, PREFIX, ConsoleDeps, build_console
from hearth.console.pages import OVERVIEWS
from hearth.domain.lifecycle import LifecycleRules
from hearth.i18n import build_i18n
from hearth.services.console import ConsoleKeys, ConsoleSession
from hearth.services.engagement_recompute import recompute
from hearth.simulate.clock import VirtualClock
from hearth.storage.engine import create_engine, create_read_engine, unit_of_work_factory
from hearth.storage.migrate import upgrade_database
from lifecycle import TODAY, build_communities, load_sqlite

GOAL_MS = 300.0
OPERATOR = 1
TOKEN = "123456:BENCHMARK"


async def run(members: int, rows: int, requests: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hearth-console-bench-") as folder:
        path = Path(folder) / "console.db"
        url = f"sqlite+aiosqlite:///{path}"
        started = time.perf_counter()
        await asyncio.to_thread(upgrade_database, url)
        seed = build_communities(1, members, rows, random.Random(7))
        community_id = seed.communities[0][0]
        await asyncio.to_thread(load_sqlite, path, seed)
        print(
            f"seeded {members:,} members, {len(seed.activity):,} activity rows "
            f"in {time.perf_counter() - started:.1f} s"
        )
        seed.release()
        engine = create_engine(url)
        reader = create_read_engine(url)
        assert reader is not None
        uow_factory = unit_of_work_factory(engine)
        started = time.perf_counter()
        async with uow_factory() as uow:
            community = await uow.communities.get(community_id)
            assert community is not None
            for weeks_ago in range(8, -1, -1):
                day = TODAY - timedelta(days=7 * weeks_ago)
                await recompute(uow, community, day, LifecycleRules())
            await uow.commit()
        print(f"nightly recompute, 9 days of standings: {time.perf_counter() - started:.1f} s")

        clock = VirtualClock(datetime.combine(TODAY, clock_time(9), tzinfo=UTC))
        keys = ConsoleKeys("benchmark-secret")
        bot = Bot(TOKEN)
        i18n = build_i18n()
        deps = ConsoleDeps(
            uow_factory=uow_factory,
            operators=ChatAdminOperators(frozenset({OPERATOR})),
            bot=bot,
            i18n=i18n,
            keys=keys,
            clock=clock,
            secure_cookie=False,
            read_uow_factory=unit_of_work_factory(reader),
            redemption_notices=PrivateNotifier(OutboxWriter(i18n, clock)),
        )
        app = web.Application()
        console = build_console(deps)
        app.add_subapp(PREFIX, console)
        server = TestServer(app)
        await server.start_server()
        cookie = keys.session_cookie(ConsoleSession(OPERATOR, "en"))
        try:
            async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
                overview = str(server.make_url(f"{PREFIX}/{community_id}/"))
                signed_out = str(server.make_url(f"{PREFIX}/"))
                page = await _get(client, overview, cookie)
                assert "Daily active members" in page, "the overview did not render"
                cold_ms = await _times(
                    client, overview, cookie, requests, before=console[OVERVIEWS].clear
                )
                warm_ms = await _times(client, overview, cookie, requests)
                baseline_ms = await _times(client, signed_out, None, requests)
        finally:
            await server.close()
            await bot.session.close()
            await engine.dispose()
            await reader.dispose()
    baseline = statistics.median(baseline_ms)
    print(f"baseline, the signed-out page: median {baseline:.1f} ms")
    for label, times in (
        ("overview, figures computed (the first view in 5 minutes)", cold_ms),
        ("overview, figures kept (every later view)", warm_ms),
    ):
        median = statistics.median(times)
        p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
        verdict = "met" if median < GOAL_MS else "NOT met"
        print(
            f"{label}: median {median:.0f} ms, p95 {p95:.0f} ms, {median / baseline:.0f}x the "
            f"baseline; under {GOAL_MS:.0f} ms: {verdict}"
        )


async def _get(client: ClientSession, url: str, cookie: str | None) -> str:
    cookies = {COOKIE: cookie} if cookie else None
    async with client.get(url, cookies=cookies) as response:
        text = await response.text()
        assert response.status in (200, 401), f"{url}: {response.status}"
        return text


async def _times(
    client: ClientSession,
    url: str,
    cookie: str | None,
    count: int,
    before: Callable[[], object] = lambda: None,
) -> list[float]:
    await _get(client, url, cookie)  # warm-up
    times = []
    for _ in range(count):
        before()
        started = time.perf_counter()
        await _get(client, url, cookie)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.members, arguments.rows, arguments.requests))


if __name__ == "__main__":
    main()
