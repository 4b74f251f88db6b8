"""/me: where a member stands in one community, gathered from the features that know it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hearth.domain.members import CommunityProfile
from hearth.domain.missions import Checklist
from hearth.domain.referrals import ReferralCounts
from hearth.services import missions, points, profile, referrals
from hearth.services.ports import UnitOfWork
from hearth.services.profile import ProfileView


@dataclass(frozen=True, slots=True)
class Overview:
    """A member's balance, questionnaire answers and referrals in one community."""

    community: CommunityProfile
    balance: int
    profile: ProfileView
    referrals: ReferralCounts
    referral_points: int  # what the next friend who checks in earns them
    missions: Checklist | None = None  # a newcomer's checklist, while missions are on


async def overview(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, now: datetime
) -> Overview:
    return Overview(
        community=community,
        balance=await uow.points.balance(community.id, member_id),
        profile=await profile.view(uow, community, member_id),
        referrals=await referrals.counts(uow, community, member_id),
        referral_points=points.rules_of(community).referral,
        missions=await missions.checklist_of(uow, community, member_id, now),
    )
