"""What attribution reads: conversions, memberships, stage changes, who took part in events,
nudge campaigns and quiz seasons. Read-only, set-based: a few columns per community, the
arithmetic is the domain's (``domain/attribution.py``). Never commits.

Months and seasons are local: callers pass their boundaries as UTC instants, and each
query puts every row in its bucket (``_bucket``) in one pass instead of one query per
period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlmodel import col

from hearth.domain.attribution import MemberConversion
from hearth.domain.conversions import ConversionKind
from hearth.domain.events import EventStatus, RsvpStatus
from hearth.domain.lifecycle import Stage
from hearth.domain.nudges import NudgeStatus
from hearth.storage import tables
from hearth.storage.conversions import ConversionRow
from hearth.storage.engagement import StageChangeRow
from hearth.storage.events import AttendanceRow, EventRow, RsvpRow
from hearth.storage.nudges import NudgeRow
from hearth.storage.quizzes import QuizAnswerRow, QuizRoundRow
from hearth.storage.repositories import _as_date, _Repository

_CHUNK = 500  # ids per IN (…) list
_STAGES = {stage.value: stage for stage in Stage}
_KINDS = {kind.value: kind for kind in ConversionKind}
_CONTACTED = [NudgeStatus.SENT.value, NudgeStatus.HELD_OUT.value]
ROUND_LENGTH = timedelta(days=1)  # longer than any quiz round runs


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _aware(moment: Any) -> datetime:
    """A UTC instant as an aggregate returns it (SQLite may give text or a naive value)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _bucket(column: Any, boundaries: Sequence[datetime]) -> ColumnElement[int]:
    """The index of the period ``[boundaries[i], boundaries[i + 1])`` a time falls in (rows
    outside them are filtered out by ``_within``)."""
    return case(
        *((column < boundary, index) for index, boundary in enumerate(boundaries[1:-1])),
        else_=len(boundaries) - 2,
    )


def _within(column: Any, boundaries: Sequence[datetime]) -> list[ColumnElement[bool]]:
    return [column >= boundaries[0], column < boundaries[-1]]


class SqlAttributionRepository(_Repository):
    """The reads behind /stats conversions, the digest's conversions and the export."""

    # -- conversions

    async def has_conversions(self, community_id: int) -> bool:
        found = await self.session.scalar(
            select(col(ConversionRow.id))
            .where(col(ConversionRow.community_id) == community_id)
            .limit(1)
        )
        return found is not None

    async def conversion_totals(
        self,
        community_id: int,
        first: date,
        last: date,
        kinds: Collection[ConversionKind] | None = None,
    ) -> dict[ConversionKind, tuple[int, int]]:
        """Kind → (conversions, amount in the minor unit) on the local days ``first`` to
        ``last``; kinds with none are left out."""
        row = ConversionRow
        statement = (
            select(col(row.kind), func.count(), func.coalesce(func.sum(col(row.amount_minor)), 0))
            .where(col(row.community_id) == community_id, col(row.occurred_on).between(first, last))
            .group_by(col(row.kind))
        )
        if kinds is not None:
            statement = statement.where(col(row.kind).in_([kind.value for kind in kinds]))
        return {
            _KINDS[kind]: (int(count), int(amount))
            for kind, count, amount in await self.session.execute(statement)
            if kind in _KINDS
        }

    async def conversions(
        self,
        community_id: int,
        after: date,
        until: date,
        kinds: Collection[ConversionKind] | None = None,
    ) -> list[tuple[int, MemberConversion]]:
        """(member, conversion) of the local days after ``after`` up to ``until``."""
        row = ConversionRow
        statement = select(
            col(row.member_id), col(row.occurred_on), col(row.kind), col(row.amount_minor)
        ).where(
            col(row.community_id) == community_id,
            col(row.occurred_on) > after,
            col(row.occurred_on) <= until,
        )
        if kinds is not None:
            statement = statement.where(col(row.kind).in_([kind.value for kind in kinds]))
        return [
            (int(member_id), MemberConversion(_as_date(day), _KINDS[kind], int(amount)))
            for member_id, day, kind, amount in await self.session.execute(statement)
            if kind in _KINDS
        ]

    # -- members and their stages

    async def memberships(self, community_id: int) -> list[tuple[int, datetime, datetime | None]]:
        """(member, joined at, left at) of everyone who ever joined the community; the join
        is the latest one."""
        membership = tables.Membership
        result = await self.session.execute(
            select(
                col(membership.member_id), col(membership.joined_at), col(membership.left_at)
            ).where(col(membership.community_id) == community_id)
        )
        return [(int(member_id), joined, left) for member_id, joined, left in result]

    async def stage_changes(self, community_id: int, until: date) -> list[tuple[int, date, Stage]]:
        """(member, local day, new stage) of every stage change up to ``until``, in the
        order they were recorded."""
        change = StageChangeRow
        result = await self.session.execute(
            select(col(change.member_id), col(change.changed_on), col(change.new_stage))
            .where(col(change.community_id) == community_id, col(change.changed_on) <= until)
            .order_by(col(change.id))
        )
        return [
            (int(member_id), _as_date(day), _STAGES[stage])
            for member_id, day, stage in result
            if stage in _STAGES
        ]

    # -- events

    async def ended_events(
        self,
        community_id: int,
        ended_before: datetime,
        *,
        starting_from: datetime | None = None,
        limit: int | None = None,
    ) -> list[tuple[int, str, datetime]]:
        """(event, title, start) of the events that ended before ``ended_before`` (and
        started at or after ``starting_from``), cancelled ones left out; latest first."""
        event = EventRow
        statement = (
            select(col(event.id), col(event.title), col(event.starts_at))
            .where(
                col(event.community_id) == community_id,
                col(event.status) != EventStatus.CANCELLED.value,
                col(event.ends_at) < ended_before,
            )
            .order_by(col(event.starts_at).desc(), col(event.id).desc())
        )
        if starting_from is not None:
            statement = statement.where(col(event.starts_at) >= starting_from)
        if limit is not None:
            statement = statement.limit(limit)
        return [
            (int(event_id or 0), str(title), starts_at)
            for event_id, title, starts_at in await self.session.execute(statement)
        ]

    async def event_participants(
        self, event_ids: Collection[int]
    ) -> dict[int, tuple[set[int], bool]]:
        """Event → (participants, from RSVPs?): the members who checked in when any check-in
        was recorded, else those whose answer is "going"."""
        ids = sorted(event_ids)
        attended: defaultdict[int, set[int]] = defaultdict(set)
        going: defaultdict[int, set[int]] = defaultdict(set)
        for chunk in _chunks(ids):
            for event_id, member_id in await self.session.execute(
                select(col(AttendanceRow.event_id), col(AttendanceRow.member_id)).where(
                    col(AttendanceRow.event_id).in_(chunk)
                )
            ):
                attended[int(event_id)].add(int(member_id))
            unattended = [event_id for event_id in chunk if event_id not in attended]
            if not unattended:
                continue
            for event_id, member_id in await self.session.execute(
                select(col(RsvpRow.event_id), col(RsvpRow.member_id)).where(
                    col(RsvpRow.event_id).in_(unattended),
                    col(RsvpRow.status) == RsvpStatus.GOING.value,
                )
            ):
                going[int(event_id)].add(int(member_id))
        return {
            event_id: (attended[event_id], False)
            if event_id in attended
            else (going.get(event_id, set()), True)
            for event_id in ids
        }

    # -- nudges and quizzes

    async def nudge_contacts(
        self, community_id: int, boundaries: Sequence[datetime]
    ) -> list[tuple[int, int, bool, datetime]]:
        """(period, member, held out?, first contact) per member and period between
        ``boundaries`` (period i: ``boundaries[i]`` to ``boundaries[i + 1]``): a nudge sent,
        or a holdout contact confirmed (never sent, by design)."""
        if len(boundaries) < 2:
            return []
        nudge = NudgeRow
        contact_at = col(nudge.sent_at)  # for the holdout: when the contact was confirmed
        period = _bucket(contact_at, boundaries)
        held_out = col(nudge.status) == NudgeStatus.HELD_OUT.value
        # planned_on (a local day) bounds the index scan; sent_at decides (a nudge is sent
        # on the day it was planned, or skipped as late: a week is a wide margin)
        earliest = boundaries[0].date() - timedelta(days=7)
        result = await self.session.execute(
            select(period, col(nudge.member_id), held_out, func.min(contact_at))
            .where(
                col(nudge.community_id) == community_id,
                col(nudge.planned_on) >= earliest,
                col(nudge.status).in_(_CONTACTED),
                contact_at.is_not(None),
                *_within(contact_at, boundaries),
            )
            .group_by(period, col(nudge.member_id), held_out)
        )
        return [
            (int(index), int(member_id), bool(is_held_out), _aware(first))
            for index, member_id, is_held_out, first in result
        ]

    async def first_answers(
        self, community_id: int, boundaries: Sequence[datetime]
    ) -> list[tuple[int, int, datetime]]:
        """(period, member, first answer) per member and period between ``boundaries``:
        answers standing in quiz rounds (practice and retracted answers left out)."""
        if len(boundaries) < 2:
            return []
        answer, quiz_round = QuizAnswerRow, QuizRoundRow
        answered_at = col(answer.answered_at)
        period = _bucket(answered_at, boundaries)
        # Standing answers belong to rounds (practice answers have none): reading the
        # period's rounds first spares a scan of every answer the community ever gave.
        rounds = select(col(quiz_round.id)).where(
            col(quiz_round.community_id) == community_id,
            col(quiz_round.started_at) >= boundaries[0] - ROUND_LENGTH,
            col(quiz_round.started_at) < boundaries[-1],
        )
        result = await self.session.execute(
            select(period, col(answer.member_id), func.min(answered_at))
            .where(
                col(answer.round_id).in_(rounds.scalar_subquery()),
                col(answer.practice).is_(False),
                col(answer.option).is_not(None),
                *_within(answered_at, boundaries),
            )
            .group_by(period, col(answer.member_id))
        )
        return [(int(index), int(member_id), _aware(first)) for index, member_id, first in result]
