"""Points for taking part in the group's conversation, credited with each activity batch.

Counting messages rewards spam, so a message earns only if it says something, at most one
per cooldown and a capped number a day; the rest of the conversation still counts as
engagement. Credits are keyed by the update they came from: a replayed batch earns nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.calendar import local_day, start_of_local_day
from hearth.domain.members import CommunityProfile
from hearth.domain.points import (
    EntryKind,
    NewEntry,
    expiry_of,
    message_credit_times,
    rules_from_settings,
    with_multiplier,
)
from hearth.services import points
from hearth.services.ports import UnitOfWork

REASON = "message"
COUNTED = frozenset({ActivityKind.MESSAGE, ActivityKind.REPLY})

CommunityLookup = Callable[[int], Awaitable[CommunityProfile | None]]


async def credit_messages(
    uow: UnitOfWork, records: Sequence[ActivityRecord], community_of: CommunityLookup, now: datetime
) -> int:
    """Credit the batch's messages that earn points; returns the points credited."""
    by_community: dict[int, list[ActivityRecord]] = defaultdict(list)
    for record in records:
        if record.kind in COUNTED and record.earns_points and record.update_id is not None:
            by_community[record.community_id].append(record)
    total = 0
    for community_id, messages in by_community.items():
        community = await community_of(community_id)
        if community is not None:
            total += await _credit_community(uow, community, messages, now)
    return total


async def _credit_community(
    uow: UnitOfWork, community: CommunityProfile, messages: list[ActivityRecord], now: datetime
) -> int:
    rules = rules_from_settings(community.points_rules)
    if rules.message <= 0:
        return 0
    members = sorted({record.member_id for record in messages})
    first_day = min(record.local_day for record in messages)
    earlier = await uow.points.credit_times(
        community.id, members, REASON, start_of_local_day(first_day, community.timezone)
    )
    earned_last_year = await uow.points.earned_by_members(
        community.id, members, now - timedelta(days=365)
    )
    groups: dict[tuple[int, date], list[ActivityRecord]] = defaultdict(list)
    for record in messages:
        groups[(record.member_id, record.local_day)].append(record)
    entries: list[NewEntry] = []
    expires_at = expiry_of(now, rules.expiry_months, community.timezone)
    for (member_id, day), day_messages in sorted(groups.items()):
        before = [
            at for at in earlier.get(member_id, []) if local_day(at, community.timezone) == day
        ]
        earning = set(
            message_credit_times(
                [record.occurred_at for record in day_messages], earlier_today=before, rules=rules
            )
        )
        tier = rules.tier_for(earned_last_year.get(member_id, 0))
        for record in day_messages:
            if record.occurred_at not in earning:
                continue
            earning.discard(record.occurred_at)  # two messages in the same second earn once
            entries.append(
                NewEntry(
                    community_id=community.id,
                    member_id=member_id,
                    kind=EntryKind.EARN,
                    amount=with_multiplier(rules.message, tier),
                    reason=REASON,
                    key=f"{REASON}:{community.id}:{member_id}:{record.update_id}",
                    at=record.occurred_at,
                    expires_at=expires_at,
                )
            )
    return await points.credit_all(uow, entries) if entries else 0
