"""The console's pages: each reads through the services the bot uses, then renders."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from aiohttp import web

from hearth.console import members, rewards_events, schedule_nudges
from hearth.console.app import (
    DEPS,
    PREFIX,
    operated_communities,
    render,
    session_of,
    signed_in_community,
)
from hearth.domain.calendar import local_day
from hearth.domain.events import local_time
from hearth.domain.lifecycle import Stage
from hearth.domain.members import CommunityProfile
from hearth.services import digest, reports
from hearth.services.digest import DigestCharts
from hearth.services.ports import UnitOfWork
from hearth.services.reports import Insight

T = TypeVar("T")

PERIOD_DAYS = 30  # the overview's period, compared with the 30 days before it
CHART_WEEKS = 8


def add_routes(app: web.Application) -> None:
    app[OVERVIEWS] = {}
    app.router.add_get("/", communities)
    app.router.add_get("/{community}/", overview)
    schedule_nudges.add_routes(app)
    rewards_events.add_routes(app)
    members.add_routes(app)


async def communities(request: web.Request) -> web.StreamResponse:
    """The communities the operator runs; straight to the overview when there is one."""
    operated = await operated_communities(request, session_of(request))
    if len(operated) == 1:
        raise web.HTTPSeeOther(f"{PREFIX}/{operated[0].id}/")
    return render(request, "communities.html", communities=operated)


@dataclass(frozen=True, slots=True)
class OverviewFigures:
    """What the overview shows, as of ``made_at``."""

    made_at: datetime
    insight: Insight
    charts: DigestCharts


# The overview covers whole local days up to yesterday: its figures change with the day,
# and the members' count and pending activations a little within it. One computation per
# community serves every operator for this long.
OVERVIEW_FRESH_FOR = timedelta(minutes=5)
OVERVIEWS: web.AppKey[dict[int, OverviewFigures]] = web.AppKey("console_overviews", dict)


async def overview(request: web.Request) -> web.StreamResponse:
    """Headline figures against the previous period, daily active members, the stage
    stack over time and the cohort heat map."""
    community = signed_in_community(request)
    figures = await _overview_figures(request, community)
    stages = list(Stage)
    charts = figures.charts
    series = {
        "days": [day.isoformat() for day in charts.days],
        "active": charts.active,
        "stages": {
            stage.value: [
                charts.stages[day][stage] if day in charts.stages else 0 for day in charts.days
            ]
            for stage in stages
        },
    }
    return render(
        request,
        "overview.html",
        figures=figures.insight,
        made_at=local_time(figures.made_at, community.timezone),
        retention=charts.retention,
        stages=stages,
        series=json.dumps(series),
        period_days=PERIOD_DAYS,
    )


async def _overview_figures(request: web.Request, community: CommunityProfile) -> OverviewFigures:
    """The community's overview figures, computed again once ``OVERVIEW_FRESH_FOR`` passed or
    the community's day changed."""
    now = request.app[DEPS].clock.now()
    today = local_day(now, community.timezone)
    cache = request.app[OVERVIEWS]
    kept = cache.get(community.id)
    if (
        kept is not None
        and now - kept.made_at < OVERVIEW_FRESH_FOR
        and local_day(kept.made_at, community.timezone) == today
    ):
        return kept
    deps = request.app[DEPS]

    async def headline(uow: UnitOfWork) -> Insight:
        last = today - timedelta(days=1)
        return await reports.insight(uow, community, last=last, days=PERIOD_DAYS, now=now)

    async def series(uow: UnitOfWork) -> DigestCharts:
        return await digest.chart_series(uow, community, today, CHART_WEEKS)

    if deps.read_uow_factory is None:
        async with deps.uow_factory() as uow:
            insight, charts = await headline(uow), await series(uow)
    else:  # the two halves side by side, on read-only connections of their own
        reading = deps.read_uow_factory

        async def read(part: Callable[[UnitOfWork], Awaitable[T]]) -> T:
            async with reading() as uow:
                return await part(uow)

        insight, charts = await asyncio.gather(read(headline), read(series))
    cache[community.id] = made = OverviewFigures(now, insight, charts)
    return made
