"""The schedule and nudges pages.

The schedule is what the bot will send on its own: announcements with their next runs
(paused and resumed here through the same service as the bot's buttons), quiz rounds,
event reminders and today's nudges. The nudges page is the ``/nudges`` report as tables:
what was sent, held out and skipped, and whether nudged members came back more often than
the holdout.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import get_day_names
from babel.lists import format_list

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
from hearth.domain.announcements import AlreadyInThatState, UnknownAnnouncement
from hearth.domain.nudges import EPISODE_LIMIT, RETURN_WINDOW_DAYS
from hearth.services import announcements, events, nudge_admin, nudges, quizzes
from hearth.services.nudge_admin import DEFAULT_REPORT_DAYS, MAX_REPORT_DAYS, MIN_MATURED

ROW_ID_LIMIT = 2**63 - 1  # a BIGINT: a larger number names no announcement
REPORT_PERIODS = (7, 30, 90, 365)  # the nudge report's choices of days
WORKING_DAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})
DONE = frozenset({"paused", "resumed", "already_paused", "already_running"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/{community}/schedule", schedule)
    app.router.add_post(
        r"/{community}/schedule/announcements/{announcement:\d+}/{action:pause|resume}",
        pause_or_resume,
    )
    app.router.add_get("/{community}/nudges", nudge_report)
    app[PAGE_NAMES].extend(["schedule", "nudges"])


@dataclass(frozen=True, slots=True)
class LocalTime:
    """Instants and weekdays as a page shows them: in the community's time zone, with the
    names of days in the reader's language."""

    timezone: str
    locale: str

    def moment(self, instant: datetime) -> str:
        """``Mon 2026-03-09 09:00``."""
        local = instant.astimezone(ZoneInfo(self.timezone))
        day = get_day_names("abbreviated", locale=self.locale)[local.weekday()]
        return f"{day} {local:%Y-%m-%d %H:%M}"

    def clock(self, instant: datetime) -> str:
        """``09:30``."""
        return f"{instant.astimezone(ZoneInfo(self.timezone)):%H:%M}"

    def weekdays(self, days: Collection[int]) -> str:
        """``Monday and Thursday`` (0 is Monday)."""
        names = get_day_names("wide", locale=self.locale)
        return format_list([str(names[day]) for day in sorted(days)], locale=self.locale)


def _local_time(request: web.Request) -> LocalTime:
    return LocalTime(signed_in_community(request).timezone, session_of(request).locale)


async def schedule(request: web.Request) -> web.StreamResponse:
    """Announcements with their next runs, quiz rounds, event reminders to come and the
    nudges planned for today."""
    community = signed_in_community(request)
    deps = request.app[DEPS]
    now = deps.clock.now()
    async with unit_of_work(request) as uow:
        planned = await announcements.planned(uow, [community], now)
        rounds = await quizzes.planned(uow, community, now)
        reminders = await events.coming_reminders(uow, community.id, now, deps.event_reminder_hours)
        today = await nudges.preview(uow, community, now)
    done = request.query.get("done", "")
    number = request.query.get("number", "")
    return render(
        request,
        "schedule.html",
        announcements=planned,
        quiz_rounds=rounds,
        reminders=reminders,
        reminder_days=events.REMINDERS_AHEAD.days,
        nudges_today=today,
        local=_local_time(request),
        episode_limit=EPISODE_LIMIT,
        working_days=WORKING_DAYS,
        weekend=WEEKEND,
        done=done if done in DONE and number.isascii() and number.isdigit() else None,
        number=number,
    )


async def pause_or_resume(request: web.Request) -> web.StreamResponse:
    """Pause or resume one of the community's announcements, as the bot's buttons do."""
    await checked_form(request)
    community = signed_in_community(request)
    deps = request.app[DEPS]
    number = int(request.match_info["announcement"])
    paused = request.match_info["action"] == "pause"
    if number > ROW_ID_LIMIT:
        return render(request, "not_found.html", status=404)
    async with unit_of_work(request) as uow:
        try:
            await announcements.set_paused(
                uow,
                number,
                paused=paused,
                operated={community.id},
                actor_id=session_of(request).operator_id,
                now=deps.clock.now(),
            )
        except UnknownAnnouncement:
            return render(request, "not_found.html", status=404)
        except AlreadyInThatState as error:
            done = "already_paused" if error.announcement.paused else "already_running"
        else:
            timetable = deps.announcement_timetable
            if timetable is not None:
                uow.on_commit(lambda: timetable.changed(number))
            await uow.commit()
            done = "paused" if paused else "resumed"
    return see_other(f"{PREFIX}/{community.id}/schedule?done={done}&number={number}")


async def nudge_report(request: web.Request) -> web.StreamResponse:
    """What the nudges of the last ``days`` days did, against the holdout, and per kind."""
    community = signed_in_community(request)
    now = request.app[DEPS].clock.now()
    days = _report_days(request.query.get("days", ""))
    async with unit_of_work(request) as uow:
        report = await nudge_admin.report(uow, community, now, days)
    skipped = sorted(report.outcomes.skipped.items(), key=lambda item: (-item[1], item[0].value))
    return render(
        request,
        "nudges.html",
        report=report,
        skipped=skipped,
        skipped_total=sum(count for _, count in skipped),
        periods=sorted({*REPORT_PERIODS, days}),
        return_days=RETURN_WINDOW_DAYS,
        min_matured=MIN_MATURED,
    )


def _report_days(raw: str) -> int:
    """The report's period from the query: 1 to ``MAX_REPORT_DAYS`` days, else the default."""
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_REPORT_DAYS:
        return int(raw)
    return DEFAULT_REPORT_DAYS
