"""Passive engagement: messages, replies and reactions in a group become activity rows."""

from __future__ import annotations

from datetime import datetime

from hearth.domain.activity import (
    ActivityKind,
    ActivityRecord,
    MessageFacts,
    message_activity,
    reaction_counts,
)
from hearth.domain.calendar import local_day
from hearth.domain.members import CommunityProfile
from hearth.services.ports import ActivitySink


def record_message(
    sink: ActivitySink,
    *,
    community: CommunityProfile,
    member_id: int,
    facts: MessageFacts,
    at: datetime,
    update_id: int | None,
) -> ActivityKind | None:
    """Record a group message as activity when it is a member's; returns the kind recorded."""
    kind = message_activity(facts, member_id)
    if kind is None:
        return None
    sink.record(
        ActivityRecord(
            community_id=community.id,
            member_id=member_id,
            kind=kind,
            occurred_at=at,
            local_day=local_day(at, community.timezone),
            update_id=update_id,
            peer_member_id=facts.replied_to_member_id if kind is ActivityKind.REPLY else None,
            earns_points=facts.substantive,
        )
    )
    return kind


def record_reaction(
    sink: ActivitySink,
    *,
    community: CommunityProfile,
    member_id: int,
    old_count: int,
    new_count: int,
    at: datetime,
    update_id: int | None,
) -> bool:
    """Record a reaction a member added; taking a reaction away is not activity."""
    if not reaction_counts(old_count, new_count):
        return False
    sink.record(
        ActivityRecord(
            community_id=community.id,
            member_id=member_id,
            kind=ActivityKind.REACTION,
            occurred_at=at,
            local_day=local_day(at, community.timezone),
            update_id=update_id,
        )
    )
    return True
