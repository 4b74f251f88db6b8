"""Reading one member's card for operators (``/member``): who they are, their stored standing
and what they did in the community. It never writes and never commits.

Each read is about one member of one community, so each goes straight to that member's
rows through the (community, member) indexes; nothing here scans a community. The record
is read with the columns and shape of a list's (``storage/segments.py``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import col

from hearth.domain.activity import (
    PARTICIPATION_KINDS,
    ActivityDay,
    ActivityKind,
    ActivityRecord,
)
from hearth.domain.delivery import OutboxStatus
from hearth.domain.events import Event, MemberEvent, RsvpStatus
from hearth.domain.segments import MemberRecord
from hearth.storage import tables
from hearth.storage.events import (
    _EVENT_COLUMNS,
    AttendanceRow,
    EventRow,
    FeedbackRow,
    RsvpRow,
    _event,
)
from hearth.storage.outbox import OutboxRow
from hearth.storage.quizzes import QuizAnswerRow
from hearth.storage.repositories import (
    SqlCheckinRepository,
    SqlPointsRepository,
    _as_date,
    _Repository,
)
from hearth.storage.segments import _COLUMNS, _record, _selected
from hearth.storage.tags import SqlTagRepository

_PARTICIPATION = sorted(kind.value for kind in PARTICIPATION_KINDS)


class SqlMemberCardQueries(_Repository):
    """One membership's record and history, as the operator's member card shows them."""

    async def record(self, community_id: int, member_id: int) -> MemberRecord | None:
        """The member's names, membership, stored standing, operator tags, balance, latest
        check-in and last active day; None when they never were a member of the community."""
        mine = col(tables.Membership.member_id) == member_id
        row = (
            await self.session.execute(_selected(select(*_COLUMNS), community_id, None).where(mine))
        ).one_or_none()
        if row is None:
            return None
        tags = SqlTagRepository(self.session, self.dialect)
        points = SqlPointsRepository(self.session, self.dialect)
        checkins = SqlCheckinRepository(self.session, self.dialect)
        return _record(
            row,
            operator_tags=tuple(await tags.of_member(community_id, member_id)),
            balance=await points.balance(community_id, member_id),
            streak=await checkins.latest(community_id, member_id),
            last_active_on=await self._last_active(community_id, member_id),
        )

    async def _last_active(self, community_id: int, member_id: int) -> date | None:
        activity = tables.Activity
        latest = await self.session.scalar(
            select(func.max(col(activity.local_day))).where(
                col(activity.community_id) == community_id,
                col(activity.member_id) == member_id,
                col(activity.kind).in_(_PARTICIPATION),
            )
        )
        return None if latest is None else _as_date(latest)

    async def first_action(
        self, community_id: int, member_id: int, kinds: Collection[ActivityKind]
    ) -> ActivityRecord | None:
        """The member's earliest activity of one of ``kinds`` in the community."""
        activity = tables.Activity
        row = (
            await self.session.execute(
                select(col(activity.kind), col(activity.occurred_at), col(activity.local_day))
                .where(
                    col(activity.community_id) == community_id,
                    col(activity.member_id) == member_id,
                    col(activity.kind).in_(sorted(kind.value for kind in kinds)),
                )
                .order_by(col(activity.occurred_at), col(activity.id))
                .limit(1)
            )
        ).one_or_none()
        if row is None:
            return None
        kind, occurred_at, local_day = row
        return ActivityRecord(
            community_id=community_id,
            member_id=member_id,
            kind=ActivityKind(kind),
            occurred_at=occurred_at,
            local_day=_as_date(local_day),
        )

    async def event_counts(self, community_id: int, member_id: int) -> tuple[int, int]:
        """(events the member registered for as going, events they attended)."""
        registered = await self.session.scalar(
            select(func.count())
            .select_from(RsvpRow)
            .join(EventRow, col(EventRow.id) == col(RsvpRow.event_id))
            .where(
                col(EventRow.community_id) == community_id,
                col(RsvpRow.member_id) == member_id,
                col(RsvpRow.status) == RsvpStatus.GOING.value,
            )
        )
        attended = await self.session.scalar(
            select(func.count())
            .select_from(AttendanceRow)
            .join(EventRow, col(EventRow.id) == col(AttendanceRow.event_id))
            .where(
                col(EventRow.community_id) == community_id,
                col(AttendanceRow.member_id) == member_id,
            )
        )
        return int(registered or 0), int(attended or 0)

    async def last_attended(self, community_id: int, member_id: int) -> Event | None:
        """The latest event the member checked in at."""
        row = (
            await self.session.execute(
                select(*_EVENT_COLUMNS)
                .join(AttendanceRow, col(AttendanceRow.event_id) == col(EventRow.id))
                .where(
                    col(EventRow.community_id) == community_id,
                    col(AttendanceRow.member_id) == member_id,
                )
                .order_by(col(EventRow.starts_at).desc(), col(EventRow.id).desc())
                .limit(1)
            )
        ).one_or_none()
        return None if row is None else _event(row)

    async def quiz_counts(self, community_id: int, member_id: int) -> tuple[int, int]:
        """(quiz questions the member answered, answered right); retracted votes not counted."""
        answered, right = (
            await self.session.execute(
                select(func.count(), func.count(case((col(QuizAnswerRow.correct), 1)))).where(
                    col(QuizAnswerRow.community_id) == community_id,
                    col(QuizAnswerRow.member_id) == member_id,
                    col(QuizAnswerRow.option).is_not(None),
                )
            )
        ).one()
        return int(answered or 0), int(right or 0)

    async def activity_days(
        self, community_id: int, member_id: int, limit: int
    ) -> list[ActivityDay]:
        """The member's activity per local day and kind, the latest ``limit``, newest first."""
        activity = tables.Activity
        day, kind = col(activity.local_day), col(activity.kind)
        occurred_at = col(activity.occurred_at)
        result = await self.session.execute(
            select(day, kind, func.count(), func.min(occurred_at), func.max(occurred_at))
            .where(col(activity.community_id) == community_id, col(activity.member_id) == member_id)
            .group_by(day, kind)
            .order_by(day.desc(), func.max(occurred_at).desc(), kind)
            .limit(limit)
        )
        return [
            ActivityDay(_as_date(local_day), ActivityKind(name), int(count), first_at, last_at)
            for local_day, name, count, first_at, last_at in result
        ]

    async def events_of(self, community_id: int, member_id: int, limit: int) -> list[MemberEvent]:
        """Events of the community the member answered or checked in at, the latest
        ``limit`` by start, with their answer, check-in and rating."""
        event_id = col(EventRow.id)
        rsvp = col(RsvpRow.status)
        checked_in = col(AttendanceRow.checked_in_at)
        result = await self.session.execute(
            select(*_EVENT_COLUMNS, rsvp.label("answer"), checked_in, col(FeedbackRow.rating))
            .outerjoin(
                RsvpRow,
                and_(col(RsvpRow.event_id) == event_id, col(RsvpRow.member_id) == member_id),
            )
            .outerjoin(
                AttendanceRow,
                and_(
                    col(AttendanceRow.event_id) == event_id,
                    col(AttendanceRow.member_id) == member_id,
                ),
            )
            .outerjoin(
                FeedbackRow,
                and_(
                    col(FeedbackRow.event_id) == event_id, col(FeedbackRow.member_id) == member_id
                ),
            )
            .where(
                col(EventRow.community_id) == community_id,
                or_(rsvp.is_not(None), checked_in.is_not(None)),
            )
            .order_by(col(EventRow.starts_at).desc(), event_id.desc())
            .limit(limit)
        )
        return [
            MemberEvent(
                event=_event(row),
                rsvp=None if row.answer is None else RsvpStatus(row.answer),
                attended=row.checked_in_at is not None,
                rating=None if row.rating is None else int(row.rating),
            )
            for row in result
        ]

    async def messages_received(
        self, community_id: int, member_id: int, kinds: Collection[str], since: datetime
    ) -> dict[str, int]:
        """Private messages of ``kinds`` the bot delivered to the member since ``since``,
        counted per kind (only the kinds with any)."""
        kind = col(OutboxRow.kind)
        result = await self.session.execute(
            select(kind, func.count())
            .where(
                col(OutboxRow.member_id) == member_id,
                col(OutboxRow.community_id) == community_id,
                kind.in_(sorted(kinds)),
                col(OutboxRow.status) == OutboxStatus.SENT.value,
                col(OutboxRow.sent_at) >= since,
            )
            .group_by(kind)
        )
        return {str(name): int(count) for name, count in result}
