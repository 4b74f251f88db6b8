"""The points and rewards page (the economy, the shelf, the redemptions waiting for an
operator, settled here as with the bot's buttons) and the events page (registrations,
attendance and what attendees thought)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from hearth.console.app import (
    DEPS,
    PAGE_NAMES,
    PREFIX,
    checked_form,
    render,
    see_other,
    session_of,
    signed_in_community,
    unit_of_work,
)
from hearth.domain.events import local_time
from hearth.domain.rewards import Redemption, RedemptionClosed, UnknownRedemption
from hearth.services import events, reports, rewards

PENDING_SHOWN = 50
EVENTS_SHOWN = 20  # of those still to come, and as many of the past
ROW_ID_LIMIT = 2**63 - 1  # a BIGINT: a larger id in a URL is no redemption

Settlement = Callable[..., Awaitable[Redemption]]
SETTLEMENTS: dict[str, tuple[Settlement, str]] = {
    "fulfil": (rewards.fulfil, "fulfilled"),
    "cancel": (rewards.cancel, "cancelled"),
}
NOTICES = frozenset({"fulfilled", "cancelled", "already-fulfilled", "already-cancelled"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/{community}/rewards", rewards_page)
    app.router.add_post(
        r"/{community}/rewards/redemptions/{redemption:\d+}/{action:fulfil|cancel}", settle
    )
    app.router.add_get("/{community}/events", events_page)
    app[PAGE_NAMES].extend(["rewards", "events"])


async def rewards_page(request: web.Request) -> web.StreamResponse:
    """The points economy, the rewards on the shelf and the redemptions to settle."""
    community = signed_in_community(request)
    now = request.app[DEPS].clock.now()
    async with unit_of_work(request) as uow:
        economy = await reports.points_overview(uow, community, now=now)
        shelf = await rewards.shelf(uow.rewards, community.id)
        pending = await rewards.pending_redemptions(
            uow.rewards, operated={community.id}, limit=PENDING_SHOWN
        )
    return render(
        request,
        "rewards.html",
        economy=economy,
        shelf=shelf,
        pending=pending,
        notice=_notice(request),
        wall_clock=lambda moment: _wall_clock(moment, community.timezone),
    )


async def settle(request: web.Request) -> web.StreamResponse:
    """Fulfil or cancel one of the community's pending redemptions, then back to the page."""
    await checked_form(request)
    community = signed_in_community(request)
    deps = request.app[DEPS]
    redemption_id = int(request.match_info["redemption"])
    settlement, done = SETTLEMENTS[request.match_info["action"]]
    if redemption_id > ROW_ID_LIMIT:
        return render(request, "not_found.html", status=404)
    async with unit_of_work(request) as uow:
        try:
            await settlement(
                uow,
                uow.rewards,
                deps.redemption_notices,
                redemption_id,
                actor_id=session_of(request).operator_id,
                operated={community.id},
                now=deps.clock.now(),
            )
        except UnknownRedemption:
            return render(request, "not_found.html", status=404)
        except RedemptionClosed as closed:
            done = f"already-{closed.status.value}"
        else:
            await uow.commit()
    return see_other(f"{PREFIX}/{community.id}/rewards?done={done}&redemption={redemption_id}")


def _notice(request: web.Request) -> tuple[str, int] | None:
    """What the last settlement did, from the query it redirected to; None when nothing."""
    done, number = request.query.get("done", ""), request.query.get("redemption", "")
    if done not in NOTICES or not number.isdigit() or len(number) > 18:
        return None
    return done, int(number)


async def events_page(request: web.Request) -> web.StreamResponse:
    """The community's events, those to come first: registrations, attendance, feedback."""
    community = signed_in_community(request)
    now = request.app[DEPS].clock.now()
    async with unit_of_work(request) as uow:
        listed = await events.community_reports(
            uow, community_id=community.id, now=now, limit=EVENTS_SHOWN
        )
    return render(
        request,
        "events.html",
        upcoming=[report for report in listed if report.event.ends_at > now],
        past=[report for report in listed if report.event.ends_at <= now],
        timezone=community.timezone,
        wall_clock=lambda moment: _wall_clock(moment, community.timezone),
    )


def _wall_clock(moment: datetime, timezone: str) -> str:
    """``2026-03-10 14:00`` on the community's clock, as the bot writes times."""
    return local_time(moment, timezone).strftime("%Y-%m-%d %H:%M")
