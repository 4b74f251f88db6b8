"""Tier changes: a member who climbs a tier is told in private, once; a fall is quiet.

Points come from check-ins, the conversation and operators, so tiers are compared in one
place: the tier each member was last told about is stored with their membership.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hearth.domain.points import rules_from_settings
from hearth.services.ports import Notifier, UnitOfWorkFactory

YEAR = timedelta(days=365)


async def announce_tier_changes(
    uow_factory: UnitOfWorkFactory, notifier: Notifier, now: datetime
) -> int:
    """Record every member's current tier; tell those who rose. Returns the messages queued."""
    told = 0
    async with uow_factory() as uow:
        communities = await uow.communities.active()
    for community in communities:
        rules = rules_from_settings(community.points_rules)
        rank = {tier.name: tier.threshold for tier in rules.tiers}
        async with uow_factory() as uow:
            known = await uow.memberships.tiers(community.id)
            earned = {
                member: points
                for member, _, points in await uow.points.earned_by_member(community.id, now - YEAR)
            }
            for member_id, announced in known.items():
                tier = rules.tier_for(earned.get(member_id, 0))
                if tier.name == announced:
                    continue
                await uow.memberships.set_tier(community.id, member_id, tier.name)
                if tier.threshold <= rank.get(announced, 0):
                    continue
                member = await uow.members.get(member_id)
                if member is None or not member.writable:
                    continue
                day = now.date().isoformat()
                key = f"tier:{community.id}:{member_id}:{tier.name}:{day}"
                told += await notifier.tier_reached(uow, key, member, community, tier)
            await uow.commit()
    return told
