"""The members pages: the roster of current members (searched, narrowed, sorted and paged in
SQL, with the filter in the URL), the same roster as a CSV file, and one member's story.

A member id that is not of the URL's community answers "not found", as a community the
operator does not run does: an id changed by hand learns nothing.
"""

from __future__ import annotations

import enum
import io
from collections.abc import Mapping
from datetime import date, datetime
from typing import TypeVar
from urllib.parse import quote, urlencode

from aiohttp import web

from hearth.console.app import DEPS, PAGE_NAMES, render, signed_in_community, unit_of_work
from hearth.domain.calendar import local_day
from hearth.domain.events import local_time
from hearth.domain.lifecycle import Stage
from hearth.domain.members import CommunityProfile
from hearth.domain.rfm import Segment
from hearth.domain.segments import MemberFilter, MemberOrder
from hearth.services import export, segments
from hearth.services.export import ExportFormat, ExportKind
from hearth.services.member_story import member_story

MEMBER_ID_LIMIT = 2**63 - 1  # a BIGINT: a larger id in a URL is nobody
SEARCH_LIMIT = 100  # characters of a search: names are at most 64, usernames 32

Choice = TypeVar("Choice", bound=enum.StrEnum)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/{community}/members", members_page)
    app.router.add_get("/{community}/members.csv", members_file)
    app.router.add_get(r"/{community}/members/{member:\d+}", member_page)
    app[PAGE_NAMES].append("members")


async def members_page(request: web.Request) -> web.StreamResponse:
    """A page of the current members the filter in the URL holds, and the filter's form."""
    community = signed_in_community(request)
    wanted = member_filter(request.query)
    async with unit_of_work(request) as uow:
        roster = await segments.roster(
            uow, community, wanted, _page_asked(request.query), today=_today(request, community)
        )
        choices = await segments.roster_choices(uow, community)
    return render(
        request,
        "members.html",
        roster=roster,
        choices=choices,
        wanted=wanted,
        query=filter_query(wanted),
        previous_query=filter_query(wanted, page=roster.page),
        next_query=filter_query(wanted, page=roster.page + 2),
        day_of=lambda moment: local_day(moment, community.timezone),
    )


async def members_file(request: web.Request) -> web.StreamResponse:
    """Every current member the filter in the URL holds, in its order, as CSV."""
    community = signed_in_community(request)
    wanted = member_filter(request.query)
    today = _today(request, community)
    content = io.BytesIO()
    async with unit_of_work(request) as uow:
        await export.write(
            uow, community, ExportKind.MEMBERS, ExportFormat.CSV, content, today=today,
            wanted=wanted,
        )  # fmt: skip
    name = export.file_name(community, ExportKind.MEMBERS, ExportFormat.CSV, today)
    plain = name if name.isascii() else f"members-{today.isoformat()}.csv"
    return web.Response(
        body=content.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"
            )
        },
    )


async def member_page(request: web.Request) -> web.StreamResponse:
    """One member's story in the community: card, timeline, points, events and nudges."""
    community = signed_in_community(request)
    member_id = int(request.match_info["member"])
    if member_id > MEMBER_ID_LIMIT:
        return render(request, "not_found.html", status=404)
    now = request.app[DEPS].clock.now()
    async with unit_of_work(request) as uow:
        story = await member_story(uow, community, member_id, now=now)
    if story is None:
        return render(request, "not_found.html", status=404)
    return render(
        request,
        "member.html",
        story=story,
        card=story.card,
        record=story.card.record,
        wall_clock=lambda moment: _wall_clock(moment, community, "%Y-%m-%d %H:%M"),
        hour_of=lambda moment: _wall_clock(moment, community, "%H:%M"),
        day_of=lambda moment: local_day(moment, community.timezone),
    )


def member_filter(query: Mapping[str, str]) -> MemberFilter:
    """The filter a query string asks for; what it cannot mean narrows nothing."""
    tag = query.get("tag", "").strip()
    tier = query.get("tier", "").strip()
    return MemberFilter(
        search=query.get("q", "").strip()[:SEARCH_LIMIT],
        stage=_known(Stage, query.get("stage")),
        segment=_known(Segment, query.get("segment")),
        tag=tag or None,
        tier=tier or None,
        order=_known(MemberOrder, query.get("sort")) or MemberOrder.NAME,
        descending=query.get("dir") == "desc",
    )


def filter_query(wanted: MemberFilter, *, page: int | None = None) -> str:
    """The query string of a filter (and a page, from 1), without what narrows nothing."""
    values = {
        "q": wanted.search,
        "stage": wanted.stage.value if wanted.stage else "",
        "segment": wanted.segment.value if wanted.segment else "",
        "tag": wanted.tag or "",
        "tier": wanted.tier or "",
        "sort": wanted.order.value if wanted.order is not MemberOrder.NAME else "",
        "dir": "desc" if wanted.descending else "",
        "page": str(page) if page is not None and page > 1 else "",
    }
    return urlencode({key: value for key, value in values.items() if value})


def _known(kind: type[Choice], raw: str | None) -> Choice | None:
    try:
        return kind(raw) if raw else None
    except ValueError:
        return None


def _page_asked(query: Mapping[str, str]) -> int:
    """The page the URL asks for, from 0 (the URL counts from 1)."""
    raw = query.get("page", "1")
    return int(raw) - 1 if raw.isdecimal() and len(raw) < 10 else 0


def _today(request: web.Request, community: CommunityProfile) -> date:
    return local_day(request.app[DEPS].clock.now(), community.timezone)


def _wall_clock(moment: datetime, community: CommunityProfile, shape: str) -> str:
    """An instant on the community's clock, e.g. ``2026-03-10 14:00``."""
    return local_time(moment, community.timezone).strftime(shape)
