"""Reminders the bot sends on its own: daily check-in nudges and points about to expire.

Each reminder is recorded (a unique row per member and day, or per lot and notice period)
and queued in the outbox in one transaction, so that a job that runs again — or twice —
never sends it twice, and a crash after the decision still sends it once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hearth.domain.calendar import local_day
from hearth.domain.streaks import current_streak
from hearth.services.ports import Notifier, UnitOfWorkFactory

EXPIRY_NOTICES = (30, 7)  # days before points expire
EXPIRY_REMINDER_HOUR = 10  # local time: late morning, never at night


async def send_checkin_reminders(
    uow_factory: UnitOfWorkFactory, notifier: Notifier, now: datetime
) -> int:
    """Remind members whose chosen local hour it is and who have not checked in today.

    Returns how many reminders were queued.
    """
    queued = 0
    async with uow_factory() as uow:
        targets = await uow.memberships.reminder_targets()
    for target in targets:
        async with uow_factory() as uow:
            community = await uow.communities.get(target.community_id)
            member = await uow.members.get(target.member_id)
            if community is None or member is None:
                continue
            local = now.astimezone(ZoneInfo(community.timezone))
            if local.hour != target.hour:
                continue
            today = local.date()
            state = await uow.checkins.latest(community.id, member.id)
            if state is not None and state.last_day == today:
                continue  # already checked in: nothing to remind
            if not member.writable:
                continue
            if not await uow.checkins.mark_reminded(community.id, member.id, today, now):
                continue
            key = f"checkin-reminder:{community.id}:{member.id}:{today.isoformat()}"
            streak = current_streak(state, today)
            queued += await notifier.checkin_reminder(uow, key, member, community, streak)
            await uow.commit()
    return queued


async def send_expiry_reminders(
    uow_factory: UnitOfWorkFactory, notifier: Notifier, now: datetime
) -> int:
    """Tell members, 30 and 7 days ahead, how many points expire and when (one message each).

    Returns how many reminders were queued.
    """
    async with uow_factory() as uow:
        lots = await uow.points.lots_expiring(now, now + timedelta(days=max(EXPIRY_NOTICES)))
    # (community, member, notice) -> [(lot id, points, expiry)]
    due: dict[tuple[int, int, int], list[tuple[int, int, datetime]]] = defaultdict(list)
    for lot in lots:
        notice = min(days for days in EXPIRY_NOTICES if lot.expires_at <= now + timedelta(days))
        due[(lot.community_id, lot.member_id, notice)].append(
            (lot.lot_id, lot.remaining, lot.expires_at)
        )
    queued = 0
    for (community_id, member_id, notice), member_lots in sorted(due.items()):
        async with uow_factory() as uow:
            community = await uow.communities.get(community_id)
            member = await uow.members.get(member_id)
            if community is None or member is None or not member.writable:
                continue
            if now.astimezone(ZoneInfo(community.timezone)).hour != EXPIRY_REMINDER_HOUR:
                continue
            fresh = [
                (points, expires)
                for lot_id, points, expires in member_lots
                if await uow.points.mark_reminded(lot_id, notice, now)
            ]
            if not fresh:
                continue
            first_day = min(local_day(expires, community.timezone) for _, expires in fresh)
            total = sum(points for points, _ in fresh)
            today = local_day(now, community.timezone)
            key = f"expiry-reminder:{community.id}:{member.id}:{notice}:{today}"
            queued += await notifier.expiry_reminder(uow, key, member, community, total, first_day)
            await uow.commit()
    return queued
