"""Aggregates behind /stats and the operators' digest. It never commits.

Every figure is one statement however many periods it covers: each period is a
``count(CASE WHEN … THEN … END)`` column over one scan of the union of the periods, so a
report and its comparison with the period before cost one round trip per figure. Local
days are compared with dates bound from Python and instants with UTC datetimes, and no
date arithmetic happens in SQL: the same statements run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    and_,
    case,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
    union_all,
)
from sqlmodel import col

from hearth.domain.activity import PARTICIPATION_KINDS, ActivityKind
from hearth.domain.lifecycle import ACTIVATION_KINDS, Stage
from hearth.domain.members import JoinVia
from hearth.domain.points import CREDIT_KINDS, EntryKind
from hearth.domain.streaks import MAX_FREEZES
from hearth.services.ports import DaySpan, TimeSpan
from hearth.storage import tables
from hearth.storage.engagement import StageChangeRow, participation_days
from hearth.storage.events import AttendanceRow, EventRow
from hearth.storage.repositories import _Repository

_PARTICIPATION = sorted(kind.value for kind in PARTICIPATION_KINDS)
_ACTIVATION = sorted(kind.value for kind in ACTIVATION_KINDS)
_CREDITS = sorted(kind.value for kind in CREDIT_KINDS)


# The condition of the partial index on joins and leaves, as the same SQL text: SQLite uses
# a partial index only for a query whose WHERE has its very terms (no bound parameters).
_MOVES = text(f"activity.{tables.MOVES}")


def _outer(spans: Sequence[tuple[Any, Any]]) -> tuple[Any, Any]:
    """The earliest start and the latest end of several spans."""
    return min(first for first, _ in spans), max(last for _, last in spans)


def _count_if(condition: Any, value: Any = 1, *, distinct: bool = False) -> Any:
    """How many rows meet ``condition`` (or distinct ``value``s among them)."""
    when = case((condition, value))
    return func.count(func.distinct(when)) if distinct else func.count(when)


def _sum_if(condition: Any, value: Any) -> Any:
    """The sum of ``value`` over the rows that meet ``condition``; 0 for none."""
    return func.coalesce(func.sum(case((condition, value))), 0)


def _in_instants(column: Any, span: TimeSpan) -> Any:
    start, end = span
    return and_(column >= start, column < end)


def _pairs(row: Sequence[Any]) -> list[tuple[int, int]]:
    """A row of two columns per period, as one pair per period."""
    return [(int(row[index]), int(row[index + 1])) for index in range(0, len(row), 2)]


class SqlInsightRepository(_Repository):
    """Community figures over several periods at once (see ``services.reports.insight``)."""

    async def serving_since(self, community_id: int) -> datetime | None:
        """When Hearth began to serve the community: the community row's creation."""
        return await self.session.scalar(
            select(col(tables.Community.created_at)).where(col(tables.Community.id) == community_id)
        )

    async def participation(
        self, community_id: int, spans: Sequence[DaySpan]
    ) -> list[tuple[int, int]]:
        """(member-days, distinct members) with participation activity, per span.

        One pass over the distinct (member, local day) pairs of the union of the spans: the
        ``member_day`` roll-up where it is complete, the activity after it
        (``engagement.participation_days``).
        """
        if not spans:
            return []
        low, high = _outer(spans)
        day_of_member = await participation_days(
            self.session, self.dialect, community_id, low, high
        )
        columns = []
        for first, last in spans:
            inside = day_of_member.c.day.between(first.toordinal(), last.toordinal())
            columns += [
                _count_if(inside),
                _count_if(inside, day_of_member.c.member_id, distinct=True),
            ]
        row = (await self.session.execute(select(*columns))).one()
        return _pairs(row)

    async def joins_and_leaves(
        self, community_id: int, spans: Sequence[DaySpan]
    ) -> list[tuple[int, int]]:
        """(joins, leaves) recorded, per span: every join and leave is one activity row,
        written only when the membership really changed."""
        if not spans:
            return []
        activity = tables.Activity
        day, kind = col(activity.local_day), col(activity.kind)
        low, high = _outer(spans)
        columns = []
        for first, last in spans:
            inside = day.between(first, last)
            columns += [
                _count_if(and_(inside, kind == ActivityKind.JOIN.value)),
                _count_if(and_(inside, kind == ActivityKind.LEAVE.value)),
            ]
        row = (
            await self.session.execute(
                select(*columns).where(
                    col(activity.community_id) == community_id,
                    day.between(low, high),
                    _MOVES,  # joins and leaves: the partial index ix_activity_moves
                )
            )
        ).one()
        return _pairs(row)

    async def checkins(self, community_id: int, spans: Sequence[DaySpan]) -> list[int]:
        """Check-ins, per span: the unique (member, local day) rows of ``checkin``."""
        if not spans:
            return []
        day = col(tables.Checkin.local_day)
        low, high = _outer(spans)
        row = (
            await self.session.execute(
                select(*(_count_if(day.between(first, last)) for first, last in spans)).where(
                    col(tables.Checkin.community_id) == community_id, day.between(low, high)
                )
            )
        ).one()
        return [int(value) for value in row]

    async def churned(self, community_id: int, spans: Sequence[DaySpan]) -> list[int]:
        """Distinct members who left, or whose stage became churned while still in the
        group, per span.

        Leaving is a leave activity row. A stage change to churned that only followed a
        leave (the recompute records it the night after) is left out: the member is gone,
        and a leave on a period's last day would otherwise count again in the next period.
        """
        if not spans:
            return []
        activity = tables.Activity
        membership = tables.Membership
        change = StageChangeRow
        low, high = _outer(spans)
        leaves: Select[int, date] = select(
            col(activity.member_id).label("member_id"), col(activity.local_day).label("day")
        ).where(
            col(activity.community_id) == community_id,
            _MOVES,  # (the partial index ix_activity_moves)
            col(activity.kind) == ActivityKind.LEAVE.value,
            col(activity.local_day).between(low, high),
        )
        left_before_the_change = exists().where(
            col(activity.community_id) == col(change.community_id),
            col(activity.member_id) == col(change.member_id),
            col(activity.kind) == ActivityKind.LEAVE.value,
            col(activity.local_day) <= col(change.changed_on),
        )
        churns = (
            select(col(change.member_id), col(change.changed_on))
            .outerjoin(
                membership,
                and_(
                    col(membership.community_id) == col(change.community_id),
                    col(membership.member_id) == col(change.member_id),
                ),
            )
            .where(
                col(change.community_id) == community_id,
                col(change.new_stage) == Stage.CHURNED.value,
                col(change.changed_on).between(low, high),
                not_(and_(col(membership.left_at).is_not(None), left_before_the_change)),
            )
        )
        gone = union_all(leaves, churns).subquery("gone")
        row = (
            await self.session.execute(
                select(
                    *(
                        _count_if(gone.c.day.between(first, last), gone.c.member_id, distinct=True)
                        for first, last in spans
                    )
                )
            )
        ).one()
        return [int(value) for value in row]

    async def streaks(
        self, community_id: int, as_of: Sequence[tuple[date, datetime]]
    ) -> list[dict[int, int]]:
        """Streak length -> members, of the streaks alive at the end of each local day.

        A streak is alive on day D when the member's latest check-in up to D is from D or
        D - 1, or from up to as many days earlier as the freezes it held then
        (``domain.streaks.current_streak``); so only the last ``MAX_FREEZES`` + 2 days of
        check-ins are read. Members who had left by the end of D are not counted.
        """
        if not as_of:
            return []
        selects = [
            self._alive_streaks(community_id, index, day, end)
            for index, (day, end) in enumerate(as_of)
        ]
        alive = union_all(*selects).subquery("alive")
        result = await self.session.execute(
            select(alive.c.period, alive.c.streak, func.count()).group_by(
                alive.c.period, alive.c.streak
            )
        )
        found: list[dict[int, int]] = [{} for _ in as_of]
        for period, streak, members in result:
            found[int(period)][int(streak)] = int(members)
        return found

    def _alive_streaks(self, community_id: int, index: int, day: date, end: datetime) -> Any:
        """Each member's streak alive at the end of ``day``, labelled ``index``."""
        checkin = tables.Checkin
        membership = tables.Membership
        local_day = col(checkin.local_day)
        in_community = col(checkin.community_id) == community_id
        latest = (
            select(col(checkin.member_id).label("member_id"), func.max(local_day).label("day"))
            .where(in_community, local_day.between(day - timedelta(days=MAX_FREEZES + 1), day))
            .group_by(col(checkin.member_id))
            .subquery(f"latest_{index}")
        )
        freezes = col(checkin.freezes)
        covered = or_(
            *(
                and_(freezes >= held, local_day >= day - timedelta(days=1 + held))
                for held in range(MAX_FREEZES + 1)
            )
        )
        return (
            select(
                literal_column(str(index), Integer).label("period"),
                col(checkin.streak).label("streak"),
            )
            .join(
                latest,
                and_(latest.c.member_id == col(checkin.member_id), latest.c.day == local_day),
            )
            .join(
                membership,
                and_(
                    col(membership.community_id) == col(checkin.community_id),
                    col(membership.member_id) == col(checkin.member_id),
                ),
            )
            .where(
                in_community,
                covered,
                or_(col(membership.left_at).is_(None), col(membership.left_at) >= end),
            )
        )

    async def first_actions(
        self, community_id: int, span: TimeSpan
    ) -> list[tuple[datetime, datetime | None]]:
        """(joined at, first meaningful action at) of the memberships that joined in
        ``span``: the earliest activity of ``ACTIVATION_KINDS`` in the community, found per
        membership by the index on (community, member, time). Members first seen taking
        part (already in the group) did not join and are left out."""
        membership = tables.Membership
        activity = tables.Activity
        joined_at = col(membership.joined_at)
        first_action = (
            select(func.min(col(activity.occurred_at)))
            .where(
                col(activity.community_id) == col(membership.community_id),
                col(activity.member_id) == col(membership.member_id),
                col(activity.kind).in_(_ACTIVATION),
            )
            .scalar_subquery()
        )
        result = await self.session.execute(
            select(joined_at, first_action).where(
                col(membership.community_id) == community_id,
                col(membership.joined_via) == JoinVia.JOIN.value,
                _in_instants(joined_at, span),
            )
        )
        return [(row[0], row[1]) for row in result]

    async def points(self, community_id: int, spans: Sequence[TimeSpan]) -> list[tuple[int, int]]:
        """(points issued, points redeemed), per span: credits (earned and granted) and
        spending on rewards, by the entries' time."""
        if not spans:
            return []
        entry = tables.PointsEntry
        created, kind, amount = col(entry.created_at), col(entry.kind), col(entry.amount)
        columns = []
        for span in spans:
            inside = _in_instants(created, span)
            columns += [
                _sum_if(and_(inside, kind.in_(_CREDITS)), amount),
                _sum_if(and_(inside, kind == EntryKind.SPEND.value), -amount),
            ]
        row = (
            await self.session.execute(
                select(*columns).where(
                    col(entry.community_id) == community_id,
                    kind.in_([*_CREDITS, EntryKind.SPEND.value]),
                    _in_instants(created, _outer(spans)),
                )
            )
        ).one()
        return _pairs(row)

    async def attendance(
        self, community_id: int, spans: Sequence[TimeSpan]
    ) -> list[tuple[int, int]]:
        """(attendances, distinct attendees) at the community's events, per span, by the
        time of the on-site check-in."""
        if not spans:
            return []
        checked_in = col(AttendanceRow.checked_in_at)
        columns = []
        for span in spans:
            inside = _in_instants(checked_in, span)
            columns += [
                _count_if(inside),
                _count_if(inside, col(AttendanceRow.member_id), distinct=True),
            ]
        row = (
            await self.session.execute(
                select(*columns)
                .select_from(AttendanceRow)
                .join(EventRow, col(EventRow.id) == col(AttendanceRow.event_id))
                .where(
                    col(EventRow.community_id) == community_id,
                    _in_instants(checked_in, _outer(spans)),
                )
            )
        ).one()
        return _pairs(row)
