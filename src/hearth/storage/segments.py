"""Reading the stored standings for operators: counts per stage and segment, the members of a
stage, segment or tag (a page at a time, or in batches for a file), the current members a
console filter holds (searched, narrowed and sorted in SQL), and the automatic tags. It never
writes and never commits.

A listed member comes with what a list or an export shows next to the standing: operator
tags, points balance, latest check-in and last active day, each read for the whole batch
in one statement.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased
from sqlmodel import col

from hearth.domain.activity import PARTICIPATION_KINDS
from hearth.domain.lifecycle import Stage
from hearth.domain.rfm import Segment
from hearth.domain.segments import (
    ListKind,
    MemberFilter,
    MemberOrder,
    MemberRecord,
    Selection,
    StandingsSummary,
    StoredStanding,
)
from hearth.domain.streaks import StreakState
from hearth.storage import tables
from hearth.storage.engagement import (
    ROLLUP_MARGIN_DAYS,
    MemberDayRollupRow,
    MemberDayRow,
    MembershipStageRow,
)
from hearth.storage.repositories import _as_date, _Repository
from hearth.storage.tags import MemberTagRow, SqlTagRepository

_PARTICIPATION = sorted(kind.value for kind in PARTICIPATION_KINDS)
_STANDING = MembershipStageRow
_COLUMNS = (
    col(tables.Member.id),
    col(tables.Member.first_name),
    col(tables.Member.last_name),
    col(tables.Member.username),
    col(tables.Member.forgotten_at),
    col(tables.Membership.joined_at),
    col(tables.Membership.left_at),
    col(tables.Membership.tier),
    col(_STANDING.stage),
    col(_STANDING.since),
    col(_STANDING.computed_on),
    col(_STANDING.segment),
    col(_STANDING.segment_since),
    col(_STANDING.recency_score),
    col(_STANDING.frequency_score),
    col(_STANDING.value_score),
    col(_STANDING.high_value),
    col(_STANDING.tags),
)


class SqlSegmentsRepository(_Repository):
    """Standings per stage, segment and tag, and the members behind them."""

    async def summary(self, community_id: int) -> StandingsSummary:
        """Members per stage (members who left included: they are churned) and, for current
        members, per segment, with the high-value count and the latest recompute's day."""
        mine = col(_STANDING.community_id) == community_id
        computed_on = await self.session.scalar(
            select(func.max(col(_STANDING.computed_on))).where(mine)
        )
        if computed_on is None:
            return StandingsSummary(computed_on=None)
        stage = col(_STANDING.stage)
        stages = await self.session.execute(select(stage, func.count()).where(mine).group_by(stage))
        segment = col(_STANDING.segment)
        segments = await self.session.execute(
            select(segment, func.count(), func.count(case((col(_STANDING.high_value), 1))))
            .where(mine, segment.is_not(None))
            .group_by(segment)
        )
        by_segment: dict[Segment, int] = {}
        high_value = 0
        for name, members, valuable in segments:
            by_segment[Segment(str(name))] = int(members)
            high_value += int(valuable)
        return StandingsSummary(
            computed_on=_as_date(computed_on),
            stages={Stage(name): int(members) for name, members in stages},
            segments=by_segment,
            high_value=high_value,
        )

    async def count(self, community_id: int, selection: Selection) -> int:
        """How many members the selection holds."""
        statement = _selected(select(func.count()), community_id, selection)
        return int(await self.session.scalar(statement) or 0)

    async def page(
        self, community_id: int, selection: Selection, *, offset: int, limit: int
    ) -> list[MemberRecord]:
        """Members of the selection, high-value and most valuable first, then by id."""
        statement = (
            _selected(select(*_COLUMNS), community_id, selection)
            .order_by(  # (no standing yet: last, on either database's NULL order)
                case((col(_STANDING.high_value).is_(True), 1), else_=0).desc(),
                func.coalesce(col(_STANDING.value_score), 0).desc(),
                col(tables.Member.id),
            )
            .offset(offset)
            .limit(limit)
        )
        rows = list(await self.session.execute(statement))
        return await self._records(community_id, rows)

    async def batches(
        self, community_id: int, selection: Selection | None, size: int
    ) -> AsyncIterator[list[MemberRecord]]:
        """Every membership of the community (or of the selection), by member id, ``size``
        at a time: a file of any length without holding every member in memory."""
        after: int | None = None
        while True:
            statement = _selected(select(*_COLUMNS), community_id, selection)
            if after is not None:
                statement = statement.where(col(tables.Member.id) > after)
            rows = list(
                await self.session.execute(statement.order_by(col(tables.Member.id)).limit(size))
            )
            if not rows:
                return
            yield await self._records(community_id, rows)
            after = int(rows[-1][0])

    async def count_matching(self, community_id: int, wanted: MemberFilter) -> int:
        """How many current members the filter holds."""
        statement = _matching(select(func.count()), community_id, wanted)
        return int(await self.session.scalar(statement) or 0)

    async def matching(
        self, community_id: int, wanted: MemberFilter, *, offset: int, limit: int
    ) -> list[MemberRecord]:
        """Current members the filter holds, in its order, then by name and id."""
        statement = (
            _matching(select(*_COLUMNS), community_id, wanted)
            .order_by(*await self._order(community_id, wanted))
            .offset(offset)
            .limit(limit)
        )
        rows = list(await self.session.execute(statement))
        return await self._records(community_id, rows)

    async def tier_counts(self, community_id: int) -> dict[str, int]:
        """Current members per tier last announced to them, most first."""
        membership = tables.Membership
        tier = col(membership.tier)
        result = await self.session.execute(
            select(tier, func.count())
            .where(col(membership.community_id) == community_id, col(membership.left_at).is_(None))
            .group_by(tier)
        )
        counts = {str(name): int(members) for name, members in result}
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    async def _order(
        self, community_id: int, wanted: MemberFilter
    ) -> list[Any]:  # (columns and SQL expressions)
        member = tables.Member
        by_name: list[Any] = [
            func.lower(col(member.first_name)),
            func.lower(func.coalesce(col(member.last_name), "")),
        ]
        keys: list[Any]
        if wanted.order is MemberOrder.NAME:
            keys, by_name = by_name, []
        elif wanted.order is MemberOrder.JOINED:
            keys = [col(tables.Membership.joined_at)]
        elif wanted.order is MemberOrder.POINTS:
            keys = [func.coalesce(_balance(), 0)]
        else:
            keys = await self._last_active_keys(community_id)
        if wanted.descending:
            keys = [key.desc() for key in keys]
        return [*keys, *by_name, col(member.id)]

    async def _last_active_keys(self, community_id: int) -> list[ColumnElement[Any]]:
        """Sort keys that order members by their last active day (``_last_active`` in SQL).

        Activity since ``ROLLUP_MARGIN_DAYS`` before the roll-up's watermark is read
        directly; a member with none there was last active on their latest rolled-up day
        (an ordinal), which is earlier. Never active: the least of both.
        """
        through = await self.session.scalar(
            select(col(MemberDayRollupRow.through_day)).where(
                col(MemberDayRollupRow.community_id) == community_id
            )
        )
        membership = tables.Membership
        activity = tables.Activity
        local_day = col(activity.local_day)
        mine = (
            col(activity.community_id) == community_id,
            col(activity.member_id) == col(membership.member_id),
            col(activity.kind).in_(_PARTICIPATION),
        )
        if through is None:
            return [
                func.coalesce(select(func.max(local_day)).where(*mine).scalar_subquery(), date.min)
            ]
        start = date.fromordinal(int(through)) - timedelta(days=ROLLUP_MARGIN_DAYS)
        # Read through the (community, member, occurred_at) index: a local day starts at most
        # a day before its UTC date. (A local_day condition in WHERE would have the planner
        # scan every member's recent days once per member instead.)
        since = datetime.combine(start - timedelta(days=1), time(), UTC)
        recent = select(func.max(case((local_day >= start, local_day)))).where(
            *mine, col(activity.occurred_at) >= since
        )
        rolled = select(func.max(col(MemberDayRow.day))).where(
            col(MemberDayRow.community_id) == community_id,
            col(MemberDayRow.member_id) == col(membership.member_id),
        )
        return [
            func.coalesce(recent.scalar_subquery(), date.min),
            func.coalesce(rolled.scalar_subquery(), 0),
        ]

    async def automatic_tag_counts(self, community_id: int) -> dict[str, int]:
        """Current members per automatic tag, most used first.

        The recompute gives most members one of a few tag lists, so the lists are grouped
        in SQL and only the distinct ones decoded here.
        """
        tags_text = cast(col(_STANDING.tags), Text)
        result = await self.session.execute(
            _current(select(tags_text, func.count()).select_from(_STANDING), community_id)
            .where(col(_STANDING.community_id) == community_id)
            .group_by(tags_text)
        )
        counts: Counter[str] = Counter()
        for text, members in result:
            for tag in json.loads(text or "[]"):
                counts[str(tag)] += int(members)
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    async def _records(
        self, community_id: int, rows: Sequence[Row[*tuple[Any, ...]]]
    ) -> list[MemberRecord]:
        ids = [int(row[0]) for row in rows]
        tags = await SqlTagRepository(self.session, self.dialect).of_members(community_id, ids)
        balances = await self._balances(community_id, ids)
        streaks = await self._latest_checkins(community_id, ids)
        active = await self._last_active(community_id, ids)
        return [
            _record(
                row,
                operator_tags=tags.get(member_id, ()),
                balance=balances.get(member_id, 0),
                streak=streaks.get(member_id),
                last_active_on=active.get(member_id),
            )
            for member_id, row in zip(ids, rows, strict=True)
        ]

    async def _balances(self, community_id: int, ids: Collection[int]) -> dict[int, int]:
        balance = tables.PointsBalance
        result = await self.session.execute(
            select(col(balance.member_id), col(balance.balance)).where(
                col(balance.community_id) == community_id, col(balance.member_id).in_(ids)
            )
        )
        return {int(member_id): int(points) for member_id, points in result}

    async def _latest_checkins(
        self, community_id: int, ids: Collection[int]
    ) -> dict[int, StreakState]:
        checkin = tables.Checkin
        later = aliased(checkin)
        result = await self.session.execute(
            select(
                col(checkin.member_id),
                col(checkin.local_day),
                col(checkin.streak),
                col(checkin.freezes),
                col(checkin.best),
            ).where(
                col(checkin.community_id) == community_id,
                col(checkin.member_id).in_(ids),
                ~exists().where(  # no later check-in of the same member (the unique index)
                    col(later.community_id) == col(checkin.community_id),
                    col(later.member_id) == col(checkin.member_id),
                    col(later.local_day) > col(checkin.local_day),
                ),
            )
        )
        return {
            int(member_id): StreakState(_as_date(day), int(streak), int(freezes), int(best))
            for member_id, day, streak, freezes, best in result
        }

    async def _last_active(self, community_id: int, ids: Collection[int]) -> dict[int, date]:
        """The latest local day with participation of each member who has one.

        The ``member_day`` roll-up answers from its key for the days it has read; the
        activity since (from ``ROLLUP_MARGIN_DAYS`` before its watermark) is read directly.
        """
        through = await self.session.scalar(
            select(col(MemberDayRollupRow.through_day)).where(
                col(MemberDayRollupRow.community_id) == community_id
            )
        )
        latest: dict[int, date] = {}
        if through is not None:
            day = col(MemberDayRow.day)
            rolled = await self.session.execute(
                select(col(MemberDayRow.member_id), func.max(day))
                .where(
                    col(MemberDayRow.community_id) == community_id,
                    col(MemberDayRow.member_id).in_(ids),
                )
                .group_by(col(MemberDayRow.member_id))
            )
            latest = {int(member_id): date.fromordinal(int(last)) for member_id, last in rolled}
        activity = tables.Activity
        local_day = col(activity.local_day)
        recent = (
            select(col(activity.member_id), func.max(local_day))
            .where(
                col(activity.community_id) == community_id,
                col(activity.member_id).in_(ids),
                col(activity.kind).in_(_PARTICIPATION),
            )
            .group_by(col(activity.member_id))
        )
        if through is not None:
            recent = recent.where(
                local_day >= date.fromordinal(int(through)) - timedelta(days=ROLLUP_MARGIN_DAYS)
            )
        for member_id, last in await self.session.execute(recent):
            day_active = _as_date(last)
            known = latest.get(int(member_id))
            latest[int(member_id)] = day_active if known is None else max(known, day_active)
        return latest


def _current(statement: Select[*tuple[Any, ...]], community_id: int) -> Select[*tuple[Any, ...]]:
    """Only standings of current members (joined to their membership)."""
    membership = tables.Membership
    return statement.join(
        membership,
        and_(
            col(membership.community_id) == col(_STANDING.community_id),
            col(membership.member_id) == col(_STANDING.member_id),
        ),
    ).where(col(membership.community_id) == community_id, col(membership.left_at).is_(None))


def _selected(
    statement: Select[*tuple[Any, ...]], community_id: int, selection: Selection | None
) -> Select[*tuple[Any, ...]]:
    """``statement`` over the community's memberships, their members and standings,
    narrowed to ``selection`` (None: every membership)."""
    membership = tables.Membership
    statement = (
        statement.select_from(membership)
        .join(tables.Member, col(tables.Member.id) == col(membership.member_id))
        .outerjoin(
            _STANDING,
            and_(
                col(_STANDING.community_id) == col(membership.community_id),
                col(_STANDING.member_id) == col(membership.member_id),
            ),
        )
        .where(col(membership.community_id) == community_id)
    )
    if selection is None:
        return statement
    if selection.kind is ListKind.STAGE:
        return statement.where(col(_STANDING.stage) == selection.value)
    current = col(membership.left_at).is_(None)
    if selection.kind is ListKind.SEGMENT:
        return statement.where(current, col(_STANDING.segment) == selection.value)
    return statement.where(current, _tagged(selection.value))


def _tagged(tag: str) -> ColumnElement[bool]:
    """The membership has ``tag``, an operator's or an automatic one."""
    membership = tables.Membership
    operator_tag = exists().where(
        col(MemberTagRow.community_id) == col(membership.community_id),
        col(MemberTagRow.member_id) == col(membership.member_id),
        col(MemberTagRow.tag) == tag,
    )
    # Automatic tags are a JSON list: the tag appears in its text as a JSON string, with
    # or without \u escapes (slugs hold no quotes; autoescape makes LIKE read % _ / and \
    # literally).
    tags_text = cast(col(_STANDING.tags), Text)
    automatic_tag = or_(
        *(
            tags_text.contains(json.dumps(tag, ensure_ascii=escaped), autoescape=True)
            for escaped in (True, False)
        )
    )
    return or_(operator_tag, automatic_tag)


def _matching(
    statement: Select[*tuple[Any, ...]], community_id: int, wanted: MemberFilter
) -> Select[*tuple[Any, ...]]:
    """``statement`` over the community's current members, narrowed to ``wanted``."""
    membership = tables.Membership
    statement = _selected(statement, community_id, None).where(col(membership.left_at).is_(None))
    if wanted.stage is not None:
        statement = statement.where(col(_STANDING.stage) == wanted.stage.value)
    if wanted.segment is not None:
        statement = statement.where(col(_STANDING.segment) == wanted.segment.value)
    if wanted.tier is not None:
        statement = statement.where(col(membership.tier) == wanted.tier)
    if wanted.tag is not None:
        statement = statement.where(_tagged(wanted.tag))
    if wanted.search.strip():
        statement = statement.where(_searched(wanted))
    return statement


def _searched(wanted: MemberFilter) -> ColumnElement[bool]:
    """The member's name or @username holds the search (either case), or it is their id.

    SQLite's lower() folds only ASCII: the text as typed is tried as well as lowered.
    """
    member = tables.Member
    username = wanted.username
    if username is not None:
        return _holds(func.coalesce(col(member.username), ""), username)
    name = col(member.first_name) + " " + func.coalesce(col(member.last_name), "")
    text = wanted.search.strip()
    found = or_(_holds(name, text), _holds(func.coalesce(col(member.username), ""), text))
    member_id = wanted.member_id
    return found if member_id is None else or_(found, col(member.id) == member_id)


def _holds(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    return or_(
        column.contains(text, autoescape=True),
        func.lower(column).contains(text.lower(), autoescape=True),
    )


def _balance() -> Any:
    """The membership's points balance (None without one), for sorting."""
    balance = tables.PointsBalance
    membership = tables.Membership
    return (
        select(col(balance.balance))
        .where(
            col(balance.community_id) == col(membership.community_id),
            col(balance.member_id) == col(membership.member_id),
        )
        .scalar_subquery()
    )


def _record(
    row: Row[*tuple[Any, ...]],
    *,
    operator_tags: tuple[str, ...],
    balance: int,
    streak: StreakState | None,
    last_active_on: date | None,
) -> MemberRecord:
    (
        member_id, first_name, last_name, username, forgotten_at, joined_at, left_at, tier,
        stage, since, computed_on, segment, segment_since, recency, frequency, value,
        high_value, automatic_tags,
    ) = row  # fmt: skip
    standing = None
    if stage is not None:
        standing = StoredStanding(
            stage=Stage(stage),
            since=_as_date(since),
            computed_on=_as_date(computed_on),
            segment=None if segment is None else Segment(segment),
            segment_since=None if segment_since is None else _as_date(segment_since),
            recency=recency,
            frequency=frequency,
            value=value,
            high_value=bool(high_value),
            tags=tuple(str(tag) for tag in automatic_tags or ()),
        )
    return MemberRecord(
        member_id=int(member_id),
        first_name=str(first_name),
        last_name=last_name,
        username=username,
        forgotten=forgotten_at is not None,
        joined_at=joined_at,
        left_at=left_at,
        tier=str(tier),
        standing=standing,
        operator_tags=operator_tags,
        balance=balance,
        streak=streak,
        last_active_on=last_active_on,
    )
