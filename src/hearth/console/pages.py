"""The console's pages: each reads through the services the bot uses, then renders."""

from __future__ import annotations

import json
from datetime import timedelta

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
from hearth.domain.lifecycle import Stage
from hearth.services import digest, reports

PERIOD_DAYS = 30  # the overview's period, compared with the 30 days before it
CHART_WEEKS = 8


def add_routes(app: web.Application) -> None:
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


async def overview(request: web.Request) -> web.StreamResponse:
    """Headline figures against the previous period, daily active members, the stage
    stack over time and the cohort heat map."""
    community = signed_in_community(request)
    now = request.app[DEPS].clock.now()
    today = local_day(now, community.timezone)
    async with unit_of_work(request) as uow:
        figures = await reports.insight(
            uow, community, last=today - timedelta(days=1), days=PERIOD_DAYS, now=now
        )
        charts = await digest.chart_series(uow, community, today, CHART_WEEKS)
    stages = list(Stage)
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
        figures=figures,
        retention=charts.retention,
        stages=stages,
        series=json.dumps(series),
        period_days=PERIOD_DAYS,
    )
