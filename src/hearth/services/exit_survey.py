"""The exit survey: a member who left is asked once why, and the answers are counted.

The question is queued in the transaction that records the leave, only for a member who
started the bot and did not block it, and at most once per member and community, ever:
the survey's row is claimed under a unique key before anything is queued.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hearth.domain.calendar import start_of_local_day
from hearth.domain.exit_survey import Departures, ExitReason, UnknownSurvey, comment_text
from hearth.domain.members import CommunityProfile
from hearth.services.ports import ExitSurveyAsker, UnitOfWork


def survey_key(community_id: int, member_id: int) -> str:
    """The outbox key of the question to one member about one community."""
    return f"exit-survey:{community_id}:{member_id}"


async def member_left(
    uow: UnitOfWork,
    asker: ExitSurveyAsker,
    *,
    community: CommunityProfile,
    member_id: int,
    now: datetime,
) -> bool:
    """Ask a member who just left why, if they can be written to and were never asked
    about this community; True when the question was queued."""
    member = await uow.members.get(member_id)
    if member is None or not member.writable:
        return False
    if not await uow.exit_surveys.claim(community.id, member_id, now):
        return False
    return await asker.ask(uow, survey_key(community.id, member_id), member, community)


async def answer(
    uow: UnitOfWork, *, community_id: int, member_id: int, reason: ExitReason, now: datetime
) -> CommunityProfile:
    """Store (or change) the member's reason; raises UnknownSurvey when they were never
    asked about that community."""
    community = await uow.communities.get(community_id)
    if community is None or not await uow.exit_surveys.answer(community_id, member_id, reason, now):
        raise UnknownSurvey()
    return community


async def add_comment(
    uow: UnitOfWork, *, community_id: int, member_id: int, text: str | None
) -> bool:
    """Keep the member's few words with their answer; False when there were none. Raises
    CommentTooLong, or UnknownSurvey when they were never asked about that community."""
    words = comment_text(text)
    if words is None:
        return False
    if not await uow.exit_surveys.add_comment(community_id, member_id, words):
        raise UnknownSurvey()
    return True


async def departures(
    uow: UnitOfWork, community: CommunityProfile, *, first: date, last: date
) -> Departures:
    """Why the members asked during the local days ``first`` to ``last`` (both included)
    said they left."""
    start = start_of_local_day(first, community.timezone)
    end = start_of_local_day(last + timedelta(days=1), community.timezone)
    return await uow.exit_surveys.departures(community.id, start, end)
