"""Cohorts and movements over time, aggregated by the database. Reads only (but brings the
``member_day`` roll-up up to date first, which the recompute would do anyway).

Retention reads the memberships' latest join and the ``member_day`` roll-up; the local
week boundaries are computed in Python, as UTC instants for the joins and as day ordinals
for the roll-up, and bound, so that one statement runs on SQLite and PostgreSQL. Members
per lifecycle stage per day come from ``stage_change``: each change opens a span that the
member's next change closes, and the database counts the spans open on the first day and
those opening and closing on each later day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Select, case, func, literal, or_, select
from sqlmodel import col

from hearth.domain.calendar import day_range, start_of_local_day
from hearth.domain.cohorts import WEEK, CohortCounts, Movement
from hearth.domain.lifecycle import Stage
from hearth.domain.members import JoinVia
from hearth.domain.rfm import Segment
from hearth.storage import tables
from hearth.storage.engagement import (
    MembershipStageRow,
    StageChangeRow,
    participation_days,
)
from hearth.storage.repositories import _as_date, _Repository


class SqlCohortRepository(_Repository):
    """Retention by join week, members per stage per day, who moved where lately."""

    async def cohort_counts(
        self, community_id: int, starts: Sequence[date], timezone: str
    ) -> CohortCounts:
        """Members per cohort (latest join in the week beginning on each of ``starts``, local
        Mondays in order) and, per cohort and week from the first cohort's on, how many of
        them took part. Members Hearth found already there (never seen joining) are in no
        cohort, unless they left and came back.
        """
        if not starts:
            return CohortCounts()
        bounds = [start_of_local_day(start, timezone) for start in starts]
        end = start_of_local_day(starts[-1] + WEEK, timezone)
        membership = tables.Membership
        joined = col(membership.joined_at)
        # the index of the latest Monday on or before the join: the first true branch wins
        cohort = case(*reversed([(joined >= bound, index) for index, bound in enumerate(bounds)]))
        joiners = (
            select(col(membership.member_id).label("member_id"), cohort.label("cohort"))
            .where(
                col(membership.community_id) == community_id,
                joined >= bounds[0],
                joined < end,
                or_(
                    col(membership.joined_via) == JoinVia.JOIN.value,
                    col(membership.join_count) > 1,
                ),
            )
            .subquery("joiners")
        )
        taking_part = await participation_days(
            self.session,
            self.dialect,
            community_id,
            starts[0],
            starts[-1] + WEEK - timedelta(days=1),
        )
        day = taking_part.c.day
        # ordinal 1 (1 January of year 1) was a Monday: a day's Monday is day - (day - 1) % 7
        weeks = select(
            taking_part.c.member_id.label("member_id"), (day - (day - 1) % 7).label("week")
        ).subquery("weeks")
        sizes = await self.session.execute(
            select(joiners.c.cohort, func.count()).group_by(joiners.c.cohort)
        )
        active = await self.session.execute(
            select(joiners.c.cohort, weeks.c.week, func.count(func.distinct(weeks.c.member_id)))
            .join(weeks, weeks.c.member_id == joiners.c.member_id)
            .group_by(joiners.c.cohort, weeks.c.week)
        )
        return CohortCounts(
            members={starts[int(index)]: int(count) for index, count in sizes},
            active={
                (starts[int(index)], date.fromordinal(int(week))): int(count)
                for index, week, count in active
            },
        )

    async def stage_counts(
        self, community_id: int, first: date, last: date
    ) -> dict[date, Counter[Stage]]:
        """Members per lifecycle stage on each local day from ``first`` to ``last``: the
        stage of each member's latest change on or before the day. Members with no change
        by then (never recomputed) are in no stage."""
        change = StageChangeRow
        changed_on = col(change.changed_on)
        spans = (
            select(
                col(change.new_stage).label("stage"),
                changed_on.label("opens"),
                func.lead(changed_on, type_=Date)
                .over(partition_by=col(change.member_id), order_by=(changed_on, col(change.id)))
                .label("closes"),
            )
            .where(col(change.community_id) == community_id, changed_on <= last)
            .subquery("spans")
        )
        stage, opens, closes = spans.c.stage, spans.c.opens, spans.c.closes
        at_first = await self.session.execute(
            select(stage, func.count())
            .where(opens <= first, or_(closes.is_(None), closes > first))
            .group_by(stage)
        )
        counts: Counter[Stage] = Counter({Stage(name): int(count) for name, count in at_first})
        moves: dict[date, Counter[Stage]] = {}
        for boundary, sign, where in (
            (opens, 1, opens > first),
            (closes, -1, (closes > first) & (closes <= last)),
        ):
            result = await self.session.execute(
                select(boundary, stage, func.count()).where(where).group_by(boundary, stage)
            )
            for day, name, count in result:
                moves.setdefault(_as_date(day), Counter())[Stage(name)] += sign * int(count)
        series: dict[date, Counter[Stage]] = {}
        for day in day_range(first, last):
            counts.update(moves.get(day, Counter()))
            series[day] = +counts  # (drops stages that emptied)
        return series

    async def entered_segments(
        self, community_id: int, segments: Collection[Segment], since: date, limit: int
    ) -> tuple[int, list[Movement]]:
        """Current members who entered one of ``segments`` after the local day ``since``
        and are still in it: how many, and the first ``limit``, high-value and most
        valuable first."""
        standing = MembershipStageRow
        statement = self._named(
            select(
                col(standing.member_id),
                col(tables.Member.first_name),
                col(standing.segment),
                col(standing.high_value),
            ).where(
                col(standing.community_id) == community_id,
                col(standing.segment).in_(sorted(segment.value for segment in segments)),
                col(standing.segment_since) > since,
            ),
            col(standing.member_id),
            community_id,
        )
        order = (
            col(standing.high_value).desc(),
            col(standing.value_score).desc(),
            col(standing.frequency_score).desc(),
            col(tables.Member.first_name),
            col(standing.member_id),
        )
        return await self._counted(statement, order, limit)

    async def entered_stage(
        self, community_id: int, stage: Stage, since: date, limit: int
    ) -> tuple[int, list[Movement]]:
        """Current members who moved into ``stage`` after the local day ``since`` (whatever
        they moved to next): how many, and the first ``limit``, high-value first."""
        change = StageChangeRow
        standing = MembershipStageRow
        moved = (
            select(col(change.member_id).label("member_id"))
            .where(
                col(change.community_id) == community_id,
                col(change.new_stage) == stage.value,
                col(change.changed_on) > since,
            )
            .distinct()
            .subquery("moved")
        )
        high_value = func.coalesce(col(standing.high_value), False)
        statement = self._named(
            select(
                moved.c.member_id,
                col(tables.Member.first_name),
                literal(stage.value),
                high_value,
            ).outerjoin(
                standing,
                (col(standing.community_id) == community_id)
                & (col(standing.member_id) == moved.c.member_id),
            ),
            moved.c.member_id,
            community_id,
        )
        order = (high_value.desc(), col(tables.Member.first_name), moved.c.member_id)
        return await self._counted(statement, order, limit)

    @staticmethod
    def _named(
        statement: Select[*tuple[Any, ...]], member_id: Any, community_id: int
    ) -> Select[*tuple[Any, ...]]:
        """Only current members who were not forgotten, with their first name."""
        membership = tables.Membership
        member = tables.Member
        return (
            statement.join(member, col(member.id) == member_id)
            .join(
                membership,
                (col(membership.community_id) == community_id)
                & (col(membership.member_id) == member_id),
            )
            .where(col(membership.left_at).is_(None), col(member.forgotten_at).is_(None))
        )

    async def _counted(
        self, statement: Select[*tuple[Any, ...]], order: Sequence[Any], limit: int
    ) -> tuple[int, list[Movement]]:
        total = await self.session.scalar(select(func.count()).select_from(statement.subquery()))
        rows = await self.session.execute(statement.order_by(*order).limit(limit))
        return int(total or 0), [
            Movement(int(member_id), str(name), str(into), bool(high_value))
            for member_id, name, into, high_value in rows
        ]
