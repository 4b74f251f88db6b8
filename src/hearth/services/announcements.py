"""Announcements: operators post once or on a schedule; each scheduled instant runs once.

A run is decided in one transaction: its record (unique per announcement and instant)
and every message it sends (the outbox, one dedupe key per chat). A job that runs twice
finds the instant taken; a crash after the commit still delivers each message once; a
crash before it leaves the instant undecided, to be run (late, within the grace period)
or recorded as skipped at the next look.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hearth.domain.announcements import (
    AlreadyInThatState,
    Announcement,
    Audience,
    NewAnnouncement,
    RunStatus,
    UnknownAnnouncement,
)
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.domain.schedules import (
    Frequency,
    Schedule,
    catch_up,
    first_run,
    next_run,
)
from hearth.services.communities import operated_or_unknown
from hearth.services.ports import Announcer, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Draft:
    """What an operator's dialog collected; ``schedule`` None means "now"."""

    community_id: int
    html: str
    photo: str | None
    schedule: Schedule | None
    audience: Audience


@dataclass(frozen=True, slots=True)
class Created:
    announcement: Announcement
    next_run: datetime | None  # None: it was sent now
    queued: int  # messages queued now (a "now" announcement)


@dataclass(frozen=True, slots=True)
class Planned:
    """A line of the operators' list."""

    announcement: Announcement
    community: CommunityProfile
    next_run: datetime | None  # None while paused


@dataclass(frozen=True, slots=True)
class RunReport:
    sent: datetime | None = None  # the instant run now (on time or late)
    skipped: tuple[datetime, ...] = ()
    queued: int = 0
    next_run: datetime | None = None  # None: nothing more to schedule


def check_schedule(schedule: Schedule, community: CommunityProfile, now: datetime) -> datetime:
    """When a new schedule first runs; ``InvalidSchedule`` for a one-off in the past."""
    return first_run(schedule, now, community.timezone)


async def create(
    uow: UnitOfWork,
    announcer: Announcer,
    draft: Draft,
    *,
    community: CommunityProfile,
    actor_id: int,
    now: datetime,
) -> Created:
    """Store an announcement; one for "now" is queued in the same transaction."""
    schedule = draft.schedule or _this_minute(now, community.timezone)
    upcoming = None if draft.schedule is None else check_schedule(schedule, community, now)
    announcement = await uow.announcements.add(
        NewAnnouncement(community.id, draft.html, draft.photo, schedule, draft.audience),
        actor_id=actor_id,
        now=now,
    )
    queued = 0
    if draft.schedule is None:
        await uow.announcements.record_run(announcement.id, now, RunStatus.SENT, now)
        queued = await _run(uow, announcer, announcement, community, now)
        await uow.announcements.finish(announcement.id, now)
    await uow.audit.record(
        actor_id=actor_id,
        action="announcement.create",
        community_id=community.id,
        details={
            "announcement": announcement.id,
            "schedule": "now" if draft.schedule is None else schedule.spec(),
            "audience": draft.audience.value,
        },
        now=now,
    )
    return Created(announcement, upcoming, queued)


def _this_minute(now: datetime, timezone: str) -> Schedule:
    local = now.astimezone(ZoneInfo(timezone))
    return Schedule(Frequency.ONCE, local.time().replace(second=0, microsecond=0), local.date())


async def planned(
    uow: UnitOfWork, communities: Collection[CommunityProfile], now: datetime
) -> list[Planned]:
    """The announcements of these communities that may still run, with their next run."""
    by_id = {community.id: community for community in communities}
    found = await uow.announcements.of_communities(by_id)
    lines = []
    for announcement in found:
        community = by_id[announcement.community_id]
        upcoming = None
        if not announcement.paused:
            upcoming = next_run(announcement.schedule, now, community.timezone)
        lines.append(Planned(announcement, community, upcoming))
    return lines


async def _operated(
    uow: UnitOfWork, announcement_id: int, operated: Collection[int]
) -> Announcement:
    return operated_or_unknown(
        await uow.announcements.get(announcement_id),
        operated,
        UnknownAnnouncement(announcement_id),
    )


async def set_paused(
    uow: UnitOfWork,
    announcement_id: int,
    *,
    paused: bool,
    operated: Collection[int],
    actor_id: int,
    now: datetime,
) -> Announcement:
    """Pause or resume. Runs due while paused are not made up for after resuming."""
    announcement = await _operated(uow, announcement_id, operated)
    if not await uow.announcements.set_paused(announcement_id, paused, now):
        raise AlreadyInThatState(announcement)
    await uow.audit.record(
        actor_id=actor_id,
        action="announcement.pause" if paused else "announcement.resume",
        community_id=announcement.community_id,
        details={"announcement": announcement_id},
        now=now,
    )
    changed = await uow.announcements.get(announcement_id)
    assert changed is not None
    return changed


async def delete(
    uow: UnitOfWork,
    announcement_id: int,
    *,
    operated: Collection[int],
    actor_id: int,
    now: datetime,
) -> Announcement:
    """Delete an announcement: it never runs again (messages already queued still go)."""
    announcement = await _operated(uow, announcement_id, operated)
    if not await uow.announcements.delete(announcement_id, now):
        raise UnknownAnnouncement(announcement_id)
    await uow.audit.record(
        actor_id=actor_id,
        action="announcement.delete",
        community_id=announcement.community_id,
        details={"announcement": announcement_id},
        now=now,
    )
    return announcement


async def run_due(
    uow_factory: UnitOfWorkFactory,
    announcer: Announcer,
    announcement_id: int,
    *,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
) -> RunReport:
    """Run what is due of one announcement (on time, or late within ``grace``) and record
    what was missed for longer as skipped; returns when it runs next."""
    async with uow_factory() as uow:
        announcement = await uow.announcements.get(announcement_id)
        if announcement is None or announcement.paused:
            return RunReport()
        community = await uow.communities.get(announcement.community_id)
        if community is None:
            return RunReport()
        last = (await uow.announcements.last_runs([announcement_id])).get(announcement_id)
        since = max(announcement.active_since, last) if last else announcement.active_since
        decision = catch_up(
            announcement.schedule, community.timezone, since=since, now=now, grace=grace
        )
        skipped = list(decision.skipped)
        run = decision.run
        if run is not None and not community.active:  # the bot left the group
            skipped, run = sorted([*skipped, run]), None
        for moment in skipped:
            await uow.announcements.record_run(announcement_id, moment, RunStatus.SKIPPED, now)
        queued = 0
        if run is not None and await uow.announcements.record_run(
            announcement_id, run, RunStatus.SENT, now
        ):
            queued = await _run(uow, announcer, announcement, community, run)
        upcoming = next_run(announcement.schedule, now, community.timezone)
        if upcoming is None:
            await uow.announcements.finish(announcement_id, now)
        await uow.commit()
    if skipped:
        log.warning(
            "announcement %d: %d run(s) missed beyond the grace period were skipped",
            announcement_id,
            len(skipped),
        )
    return RunReport(run, tuple(skipped), queued, upcoming)


async def _run(
    uow: UnitOfWork,
    announcer: Announcer,
    announcement: Announcement,
    community: CommunityProfile,
    scheduled_for: datetime,
) -> int:
    """Queue one run's messages (its record is already written in this transaction)."""
    recipients: list[MemberProfile] = []
    if announcement.audience.private_copies:
        recipients = await uow.announcements.private_audience(community.id)
    return await announcer.announce(uow, announcement, community, scheduled_for, recipients)


async def private_reach(uow: UnitOfWork, community_id: int) -> int:
    """How many members would get an announcement in private now."""
    return len(await uow.announcements.private_audience(community_id))


async def scheduled_ids(uow_factory: UnitOfWorkFactory) -> list[int]:
    """Every announcement that may still run (the scheduler's jobs are rebuilt from these)."""
    async with uow_factory() as uow:
        return [announcement.id for announcement in await uow.announcements.scheduled()]


async def set_private_copies(
    uow: UnitOfWork, *, member_id: int, enabled: bool, now: datetime
) -> list[CommunityProfile]:
    """A member opts in to (or out of) announcements in private, in every community."""
    communities = await uow.memberships.communities_of(member_id)
    await uow.announcements.set_private_copies(
        member_id, [community.id for community in communities], enabled, now
    )
    return communities


async def stop_private_copies(
    uow: UnitOfWork, *, member_id: int, community_id: int, now: datetime
) -> CommunityProfile | None:
    """The one-tap opt-out under a private copy: this community only."""
    for community in await uow.memberships.communities_of(member_id):
        if community.id == community_id:
            await uow.announcements.set_private_copies(member_id, [community_id], False, now)
            return community
    return None
