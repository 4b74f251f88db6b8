"""One member's story in one community, as the operator console tells it: their card, what
they did day by day, their points ledger, the events they answered and the nudges they got.

It reads only: the card is ``member_card``'s, the rest straight from the repositories, each
bounded to the latest entries so that a member of years reads as fast as a newcomer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hearth.domain.activity import ActivityDay
from hearth.domain.events import MemberEvent
from hearth.domain.members import CommunityProfile
from hearth.domain.nudges import NudgeRecord
from hearth.domain.points import LedgerLine
from hearth.services.member_card import MemberCard, member_card
from hearth.services.ports import UnitOfWork

TIMELINE_DAYS = 200  # (local day, kind) lines of the timeline
LEDGER_ENTRIES = 200
EVENTS = 100


@dataclass(frozen=True, slots=True)
class MemberStory:
    """A member of one community: their card and their latest history, newest first."""

    card: MemberCard
    writable: bool  # the bot may write to them in private
    timeline: list[ActivityDay] = field(default_factory=list)
    ledger: list[LedgerLine] = field(default_factory=list)
    events: list[MemberEvent] = field(default_factory=list)
    nudges: list[NudgeRecord] = field(default_factory=list)


async def member_story(
    uow: UnitOfWork, community: CommunityProfile, member_id: int, *, now: datetime
) -> MemberStory | None:
    """The member's story in the community; None when they never belonged to it."""
    card = await member_card(uow, community, member_id, now=now)
    if card is None:
        return None
    profile = await uow.members.get(member_id)
    queries = uow.member_cards
    return MemberStory(
        card=card,
        writable=profile is not None and profile.writable and not card.record.forgotten,
        timeline=await queries.activity_days(community.id, member_id, TIMELINE_DAYS),
        ledger=await uow.points.recent(community.id, member_id, LEDGER_ENTRIES),
        events=await queries.events_of(community.id, member_id, EVENTS),
        nudges=await uow.nudges.history(community.id, member_id),
    )
