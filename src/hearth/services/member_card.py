"""One member's card for operators (``/member``): who they are, where they stand, what they did.

The standing (stage, RFM, segment, automatic tags) is what the daily recompute stored; the
rest is read live: among it the check-in, points expiry and event reminders the bot delivered
to the member in private, and the reactivation nudges they got.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hearth.domain.activity import ActivityRecord
from hearth.domain.calendar import local_day
from hearth.domain.events import Event
from hearth.domain.lifecycle import (
    ACTIVATION_KINDS,
    Activation,
    LifecycleRules,
    StageChange,
    activation,
    days_to_activation,
)
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.domain.points import Tier
from hearth.domain.segments import MemberRecord
from hearth.services import members, points
from hearth.services.nudge_admin import MemberNudges, member_nudges
from hearth.services.ports import UnitOfWork

# Outbox kinds of the reminders a member can receive in private, in the card's order.
REMINDER_KINDS = ("checkin_reminder", "expiry_reminder", "event_reminder")
REMINDER_WINDOW = timedelta(days=90)
RECENT_CHANGES = 5


@dataclass(frozen=True, slots=True)
class MemberCard:
    """Everything ``/member`` shows about one member of one community."""

    community: CommunityProfile
    record: MemberRecord
    today: date  # the community's local day the card was read on
    join_count: int  # 2 and more: the member left and came back
    tier: Tier  # from the points credited in the last 12 months
    changes: list[StageChange] = field(default_factory=list)  # the latest, newest first
    first_action: ActivityRecord | None = None  # first check-in, quiz answer or RSVP
    activation: Activation = Activation.PENDING
    days_to_activation: int | None = None
    registered: int = 0  # events registered for as going
    attended: int = 0
    last_attended: Event | None = None
    quiz_answered: int = 0
    quiz_right: int = 0
    reminders: dict[str, int] = field(default_factory=dict)  # outbox kind → delivered
    nudges: MemberNudges | None = None  # the reactivation nudges they got here

    @property
    def streak(self) -> int:
        return self.record.streak_on(self.today)

    @property
    def idle_days(self) -> int | None:
        return self.record.idle_days(self.today)


async def member_card(
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    *,
    now: datetime,
    rules: LifecycleRules | None = None,
) -> MemberCard | None:
    """The member's card in the community; None when they never belonged to it."""
    rules = rules or LifecycleRules()
    queries = uow.member_cards
    record = await queries.record(community.id, member_id)
    membership = await uow.memberships.get(community.id, member_id)
    if record is None or membership is None:
        return None
    first = await queries.first_action(community.id, member_id, ACTIVATION_KINDS)
    first_at = None if first is None else first.occurred_at
    registered, attended = await queries.event_counts(community.id, member_id)
    answered, right = await queries.quiz_counts(community.id, member_id)
    changes = await uow.engagement.changes(community.id, member_id)
    return MemberCard(
        community=community,
        record=record,
        today=local_day(now, community.timezone),
        join_count=membership.join_count,
        tier=await points.tier_of(uow, community.id, member_id, now, points.rules_of(community)),
        changes=changes[::-1][:RECENT_CHANGES],
        first_action=first,
        activation=activation(record.joined_at, first_at, now, rules),
        days_to_activation=days_to_activation(record.joined_at, first_at),
        registered=registered,
        attended=attended,
        last_attended=await queries.last_attended(community.id, member_id),
        quiz_answered=answered,
        quiz_right=right,
        reminders=await queries.messages_received(
            community.id, member_id, REMINDER_KINDS, now - REMINDER_WINDOW
        ),
        nudges=await member_nudges(uow, community.id, member_id),
    )


async def find_member(
    uow: UnitOfWork, communities: Sequence[CommunityProfile], reference: str
) -> tuple[MemberProfile | None, list[CommunityProfile]]:
    """The member ``reference`` (@username or id) names, and which of ``communities`` they
    belong or belonged to; (None, []) when they never were in any of them."""
    found: MemberProfile | None = None
    where: list[CommunityProfile] = []
    for community in communities:
        member = await members.member_or_former(uow, community.id, reference)
        if member is not None:
            found = member
            where.append(community)
    return found, where
