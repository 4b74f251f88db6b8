"""``hearth simulate``: the real bot, a local Bot API stand-in and a synthetic community.

No token and no network: the stand-in listens on 127.0.0.1, the bot polls it over HTTP,
and a virtual clock walks through the simulated days.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from hearth.bot.app import Hearth, build_hearth
from hearth.config import Settings
from hearth.domain.calendar import local_day
from hearth.scheduler import jobs
from hearth.services import reports
from hearth.services.reports import Overview, PointsOverview
from hearth.simulate import updates
from hearth.simulate.botapi import BotApiStandIn
from hearth.simulate.business import Business, BusinessFigures
from hearth.simulate.chart import daily_active_chart
from hearth.simulate.clock import VirtualClock
from hearth.simulate.community import SyntheticCommunity
from hearth.simulate.engagement import (
    EngagementFigures,
    digest_hour,
    engagement_figures,
    nightly_recompute,
    save_digest_charts,
    weekly_digest,
)
from hearth.simulate.growth import Growth, GrowthFigures
from hearth.simulate.nudges import NudgeFigures, NudgeResponder
from hearth.simulate.programme import (
    Action,
    Checkpoint,
    Programme,
    ProgrammeFigures,
    deliver,
    run_day,
)
from hearth.storage.migrate import upgrade_database

SIMULATED_TOKEN = "123456:SIMULATED-HEARTH"
COMMUNITY_ID = -1001234567890
OPERATOR_ID = 1000


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    """What ``hearth simulate`` runs."""

    members: int = 200
    days: int = 30
    seed: int = 7
    database_url: str | None = None
    out: Path = Path("hearth-simulation")
    timezone: str = "UTC"
    title: str = "Owners Club"
    today: date | None = None  # the run ends the day before; default: the real today


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """What the simulation produced."""

    overview: Overview
    points: PointsOverview
    programme: ProgrammeFigures  # events, announcements, quizzes and the outbox
    engagement: EngagementFigures  # lifecycle stages after the last nightly recompute
    nudges: NudgeFigures  # reactivation nudges, their outcomes and the rules' checks
    growth: GrowthFigures  # newcomer missions with and without, referrals, lucky draws
    business: BusinessFigures  # channels, conversions, attendance uplift on service visits
    digests: int  # weekly digests queued for the operator
    digest_charts: list[Path]  # the last digest's charts, as the operator received them
    chart: Path
    database_url: str
    updates: int
    seconds: float
    operator_stats_reply: str


def default_database_url(out: Path) -> str:
    return f"sqlite+aiosqlite:///{(out / 'hearth-simulation.db').resolve()}"


async def simulate(
    options: SimulationOptions, progress: Callable[[str], None] = print
) -> SimulationResult:
    """Run the whole stack on a virtual clock and return the operator's figures."""
    started = time.perf_counter()
    options.out.mkdir(parents=True, exist_ok=True)
    database_url = options.database_url or default_database_url(options.out)
    if options.database_url is None:
        _remove_sqlite_files(options.out / "hearth-simulation.db")
    await asyncio.to_thread(upgrade_database, database_url)

    today = options.today or datetime.now(UTC).date()
    first_day = today - timedelta(days=options.days)
    community = SyntheticCommunity(
        chat_id=COMMUNITY_ID,
        title=options.title,
        members=options.members,
        days=options.days,
        seed=options.seed,
        timezone=options.timezone,
        first_day=first_day,
        operator_id=OPERATOR_ID,
    )
    clock = VirtualClock(community.local_time(0, 7))
    api = BotApiStandIn(token=SIMULATED_TOKEN, clock=clock.timestamp)
    base_url = await api.start()
    api.set_chat(community.chat)
    api.set_admins(COMMUNITY_ID, [{**community.operator, "status": "creator"}])
    settings = Settings(
        bot_token=SecretStr(SIMULATED_TOKEN),
        telegram_api_base=base_url,
        database_url=database_url,
        default_timezone=options.timezone,
        scheduler=False,  # jobs run on the virtual clock (or not at all)
        # The stand-in has no rate limits; the simulated month need not wait for them.
        messages_per_second=10_000,
        private_messages_per_second=10_000,
        group_messages_per_minute=600_000,
        _env_file=None,
    )
    hearth = build_hearth(settings, clock=clock)
    polling = asyncio.create_task(
        hearth.dispatcher.start_polling(
            hearth.bot,
            allowed_updates=hearth.allowed_updates,
            polling_timeout=1,
            handle_signals=False,
            handle_as_tasks=False,  # one update after another: the same seed, the same result
        )
    )
    total = 0
    try:
        setup = community.setup()
        setup[0].payload["my_chat_member"]["new_chat_member"]["user"] = api.bot_user
        setup[0].payload["my_chat_member"]["old_chat_member"]["user"] = api.bot_user
        total += await deliver(api, clock, setup)
        total += await _stock_the_store(api, clock, community)
        programme = Programme(
            api=api,
            clock=clock,
            hearth=hearth,
            community=community,
            seed=options.seed,
            days=options.days,
        )
        growth = Growth(programme, seed=options.seed)
        business = Business(programme, seed=options.seed, invited=growth.friends)
        responder = NudgeResponder(
            api=api, clock=clock, hearth=hearth, community=community, seed=options.seed
        )
        recomputes: list[int] = []
        digests: list[int] = []
        for day in range(options.days):
            batch = business.rewrite(day, growth.rewrite(day, community.day(day)))
            redeemers = community.redeemers(day)
            notes: list[str] = []
            extra_updates, checkpoints = await programme.plan(day, notes)
            growth_updates, growth_checkpoints = growth.plan(day)
            extra_updates += growth_updates
            checkpoints += growth_checkpoints
            business_updates, business_checkpoints = business.plan(day)
            extra_updates += business_updates
            checkpoints += business_checkpoints
            reminded: list[int] = []
            checkpoints += responder.checkpoints(day)
            checkpoints.append(
                Checkpoint(community.local_time(day, 3.5), nightly_recompute(hearth, recomputes))
            )
            checkpoints.append(
                Checkpoint(
                    community.local_time(day, digest_hour(hearth)), weekly_digest(hearth, digests)
                )
            )
            # The day in time order: the community's and the programme's updates, and the
            # scheduler's work at its moments, on the virtual clock.
            checkpoints.append(
                Checkpoint(community.local_time(day, 10.25), _expiry_reminders(hearth, reminded))
            )
            total += await run_day(api, clock, batch + extra_updates, checkpoints)
            for member in redeemers:
                total += await _redeem(api, clock, member.user)
            clock.set(max(clock.now(), community.local_time(day, 23.99)))
            expired = await jobs.expire_points(hearth.uow_factory, clock)
            await jobs.tier_announcements(hearth.uow_factory, hearth.notifier, clock)
            await programme.drain()
            await growth.after_day(day)
            await business.after_day(day)
            extra = f"  {expired} points expired" if expired else ""
            extra += f"  {sum(reminded)} expiry reminders" if sum(reminded) else ""
            extra += "".join(f"  {note}" for note in notes)
            progress(
                f"day {day + 1:>3}/{options.days}  {community.local_time(day, 0).date()}  "
                f"{len(batch):>5} updates{extra}"
            )
        clock.set(community.local_time(options.days - 1, 23.99))
        await hearth.buffer.flush()  # the operator's figures include the last minutes
        stats_reply = await _ask_for_stats(api, clock, community, options.days)
        total += 1
        await hearth.buffer.flush()
        async with hearth.uow_factory() as uow:
            profile = await uow.communities.get(COMMUNITY_ID)
            assert profile is not None, "the bot never registered the community"
            overview = await reports.overview(
                uow,
                profile,
                last=local_day(clock.now(), profile.timezone),
                days=options.days,
            )
            points_figures = await reports.points_overview(uow, profile, now=clock.now())
        programme_figures = await programme.figures(clock.now(), overview.members)
        growth_figures = await growth.figures(clock.now())
        business_figures = await business.figures(clock.now(), today)
        engagement = await engagement_figures(hearth, community, options.days, sum(recomputes))
        nudge_figures = await responder.finish()
        digest_charts = save_digest_charts(api, OPERATOR_ID, options.out)
    finally:
        await hearth.dispatcher.stop_polling()
        await polling
        await api.stop()
    chart = daily_active_chart(
        overview,
        options.out / "daily-active.png",
        title=(
            f"{options.title}: daily active members "
            f"({options.members} members, seed {options.seed})"
        ),
    )
    return SimulationResult(
        overview=overview,
        points=points_figures,
        programme=programme_figures,
        engagement=engagement,
        nudges=nudge_figures,
        growth=growth_figures,
        business=business_figures,
        digests=sum(digests),
        digest_charts=digest_charts,
        chart=chart,
        database_url=database_url,
        updates=total,
        seconds=time.perf_counter() - started,
        operator_stats_reply=stats_reply,
    )


REWARDS = ("/reward_new 150 40 Club mug limit=1", "/reward_new 600 unlimited Free car wash")


def _expiry_reminders(hearth: Hearth, reminded: list[int]) -> Action:
    async def action() -> int:
        reminded.append(
            await jobs.expiry_reminders(hearth.uow_factory, hearth.notifier, hearth.clock)
        )
        return 0

    return action


async def _stock_the_store(
    api: BotApiStandIn, clock: VirtualClock, community: SyntheticCommunity
) -> int:
    """The operator starts the bot (for the weekly digest in private) and puts two rewards
    on the shelf, as a real operator would."""
    operator = community.operator
    for command in ("/start", *REWARDS):
        api.add_update(updates.message(updates.private(operator), operator, command, clock.now()))
        await api.wait_until_consumed(timeout=30)
    return 1 + len(REWARDS)


async def _redeem(api: BotApiStandIn, clock: VirtualClock, member: updates.JsonDict) -> int:
    """A member opens /rewards in private and redeems the first reward offered, if any.

    Every step goes through the bot: the buttons pressed are the ones it sent.
    """
    chat = updates.private(member)
    sent = len(api.calls)
    api.add_update(updates.message(chat, member, "/rewards", clock.now()))
    await api.wait_until_consumed(timeout=30)
    pick = _button(api, sent, member, "rw1p:")
    if pick is None:
        return 1  # nothing the member can afford yet
    sent = len(api.calls)
    api.add_update(updates.callback_query(member, pick, clock.now(), query_id=f"p{sent}"))
    await api.wait_until_consumed(timeout=30)
    confirm = _button(api, sent, member, "rw1c:")
    if confirm is None:
        return 2
    api.add_update(updates.callback_query(member, confirm, clock.now(), query_id=f"c{sent}"))
    await api.wait_until_consumed(timeout=30)
    return 3


def _button(api: BotApiStandIn, since: int, member: updates.JsonDict, prefix: str) -> str | None:
    """The first button with ``prefix`` the bot sent the member since call ``since``."""
    for call in api.calls[since:]:
        if call.params.get("chat_id") != member["id"]:
            continue
        markup = call.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = str(button.get("callback_data", ""))
                if data.startswith(prefix):
                    return data
    return None


async def _ask_for_stats(
    api: BotApiStandIn, clock: VirtualClock, community: SyntheticCommunity, days: int
) -> str:
    """The operator sends /stats in private, as a real operator would; returns the reply."""
    operator = community.operator
    period = max((p for p in (7, 30, 90) if p <= days), default=7)
    since = len(api.calls)
    api.add_update(
        updates.message(updates.private(operator), operator, f"/stats {period}d", clock.now())
    )
    call = await api.wait_for_call(
        "sendMessage",
        lambda call: call.params.get("chat_id") == operator["id"],
        timeout=30,
        since=since,
    )
    return _plain(str(call.params.get("text", "")))


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
