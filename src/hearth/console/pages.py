"""The console's pages: each reads through the services the bot uses, then renders."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from hearth.console import members, rewards_events, schedule_nudges
from hearth.console.app import (
    DEPS,
    PREFIX,
    operated_communities,
    render,
    session_of,
    signed_in_community,
    unit_of_work,
)
from hearth.domain.calendar import local_day
from hearth.domain.events import local_time
from hearth.domain.lifecycle import Stage
from hearth.domain.members import CommunityProfile
from hearth.services import digest, reports
from hearth.services.digest import DigestCharts
from hearth.services.reports import Insight

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
    async with unit_of_work(request) as uow:
        insight = await reports.insight(
            uow, community, last=today - timedelta(days=1), days=PERIOD_DAYS, now=now
        )
        charts = await digest.chart_series(uow, community, today, CHART_WEEKS)
    cache[community.id] = made = OverviewFigures(now, insight, charts)
    return made
