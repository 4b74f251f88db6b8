"""The events' tables (event, rsvp, attendance, feedback) and repository. It never commits.

Competing writes rest on keys: one RSVP row per (event, member), one attendance row per
(event, member) inserted with ``ON CONFLICT DO NOTHING``, a unique attendance code per
event. RSVPs of one event are serialised by locking the event's row (PostgreSQL) or by
SQLite's single writer, so that a capacity is never exceeded.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Row,
    Text,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col

from hearth.domain.events import (
    Event,
    EventDraft,
    EventStatus,
    RsvpCounts,
    RsvpStatus,
)
from hearth.storage import tables
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.tables import _utc
from hearth.storage.types import BigId


class EventRow(SQLModel, table=True):
    """A published event; cancelled rather than deleted."""

    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ck_event_ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="ck_event_capacity_positive"),
        CheckConstraint("points >= 0", name="ck_event_points_not_negative"),
        Index("ix_event_community_starts", "community_id", "starts_at"),
        Index("ix_event_status_starts", "status", "starts_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    title: str = Field(max_length=255)
    description: str = Field(sa_column=Column(Text, nullable=False))
    place: str = Field(max_length=255)
    starts_at: datetime = _utc()
    ends_at: datetime = _utc()
    capacity: int | None = None  # None: no limit
    registration_deadline: datetime = _utc()
    points: int = 0
    photo: str | None = Field(default=None, max_length=255)  # a Telegram file id
    tag: str | None = Field(default=None, max_length=32)  # the event's type, e.g. track-day
    code: str = Field(max_length=16, unique=True)
    status: str = Field(default=EventStatus.SCHEDULED.value, max_length=16)
    card_message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    feedback_requested_at: datetime | None = _utc(default=None, nullable=True)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    cancelled_at: datetime | None = _utc(default=None, nullable=True)


class RsvpRow(SQLModel, table=True):
    """A member's answer to an event; the waitlist is ordered by ``waitlist_position``."""

    __tablename__ = "rsvp"
    __table_args__ = (Index("ix_rsvp_event_status", "event_id", "status", "waitlist_position"),)

    event_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    status: str = Field(max_length=16)
    answered_at: datetime = _utc()
    waitlisted_at: datetime | None = _utc(default=None, nullable=True)
    # Arrival order on the waitlist (RSVPs of one event are serialised, so max + 1 is safe).
    waitlist_position: int | None = None
    reminded_hours: int | None = None  # the closest reminder sent (hours before the start)


class AttendanceRow(SQLModel, table=True):
    """A member checked in on site; the primary key makes a second check-in a no-op."""

    __tablename__ = "attendance"

    event_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    checked_in_at: datetime = _utc()


class FeedbackRow(SQLModel, table=True):
    """An attendee's rating (1–5), recommendation (0–10) and optional comment."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_feedback_rating"),
        CheckConstraint(
            "recommend IS NULL OR recommend BETWEEN 0 AND 10", name="ck_feedback_recommend"
        ),
    )

    event_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    rating: int | None = None
    recommend: int | None = None
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


_EVENT_COLUMNS = (
    col(EventRow.id),
    col(EventRow.community_id),
    col(EventRow.title),
    col(EventRow.description),
    col(EventRow.place),
    col(EventRow.starts_at),
    col(EventRow.ends_at),
    col(EventRow.capacity),
    col(EventRow.registration_deadline),
    col(EventRow.points),
    col(EventRow.photo),
    col(EventRow.code),
    col(EventRow.status),
    col(EventRow.card_message_id),
    col(EventRow.created_by),
    col(EventRow.tag),
)

# What /event_edit may change, by the name the service uses.
EDITABLE = frozenset(
    {
        "title",
        "description",
        "place",
        "starts_at",
        "ends_at",
        "capacity",
        "registration_deadline",
        "points",
        "tag",
    }
)


def _event(row: Row[*tuple[Any, ...]]) -> Event:
    return Event(
        id=int(row.id),
        community_id=int(row.community_id),
        title=str(row.title),
        description=str(row.description),
        place=str(row.place),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        capacity=None if row.capacity is None else int(row.capacity),
        registration_deadline=row.registration_deadline,
        points=int(row.points),
        photo=row.photo,
        code=str(row.code),
        status=EventStatus(row.status),
        card_message_id=None if row.card_message_id is None else int(row.card_message_id),
        created_by=None if row.created_by is None else int(row.created_by),
        tag=row.tag,
    )


class SqlEventsRepository(_Repository):
    """Events, RSVPs, attendance and feedback (reads map straight to domain values)."""

    # -- events

    async def add(
        self,
        community_id: int,
        draft: EventDraft,
        *,
        code: str,
        actor_id: int | None,
        now: datetime,
    ) -> Event | None:
        # None: the code is taken by another event
        return await self._mapped(
            insert_ignoring_duplicates(self.dialect, EventRow)
            .values(
                community_id=community_id,
                title=draft.title[:255],
                description=draft.description,
                place=draft.place[:255],
                starts_at=draft.starts_at,
                ends_at=draft.ends_at,
                capacity=draft.capacity,
                registration_deadline=draft.registration_deadline,
                points=draft.points,
                photo=draft.photo,
                code=code,
                status=EventStatus.SCHEDULED.value,
                card_message_id=None,
                feedback_requested_at=None,
                created_by=actor_id,
                created_at=now,
                updated_at=now,
                cancelled_at=None,
            )
            .returning(*_EVENT_COLUMNS),
            _event,
        )

    async def get(self, event_id: int, *, lock: bool = False) -> Event | None:
        statement = select(*_EVENT_COLUMNS).where(col(EventRow.id) == event_id)
        if lock and self.dialect == "postgresql":
            statement = statement.with_for_update()
        return await self._mapped(statement, _event)

    async def by_code(self, code: str) -> Event | None:
        return await self._mapped(
            select(*_EVENT_COLUMNS).where(col(EventRow.code) == code),
            _event,
        )

    async def set_card(self, event_id: int, message_id: int | None) -> None:
        await self._set(event_id, card_message_id=message_id)

    async def change(self, event_id: int, now: datetime, **changes: Any) -> Event | None:
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        return await self._mapped(
            update(EventRow)
            .where(
                col(EventRow.id) == event_id,
                col(EventRow.status) == EventStatus.SCHEDULED.value,
            )
            .values(updated_at=now, **changes)
            .returning(*_EVENT_COLUMNS)
            .execution_options(synchronize_session=False),
            _event,
        )

    async def cancel(self, event_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(EventRow)
            .where(
                col(EventRow.id) == event_id,
                col(EventRow.status) == EventStatus.SCHEDULED.value,
            )
            .values(status=EventStatus.CANCELLED.value, cancelled_at=now, updated_at=now)
            .returning(col(EventRow.id))
            .execution_options(synchronize_session=False)
        )
        return result.scalar_one_or_none() is not None

    async def upcoming(
        self, community_ids: Collection[int], now: datetime, limit: int
    ) -> list[Event]:
        if not community_ids:
            return []
        result = await self.session.execute(
            select(*_EVENT_COLUMNS)
            .where(
                col(EventRow.community_id).in_(list(community_ids)),
                col(EventRow.status) == EventStatus.SCHEDULED.value,
                col(EventRow.ends_at) > now,
            )
            .order_by(col(EventRow.starts_at), col(EventRow.id))
            .limit(limit)
        )
        return [_event(row) for row in result]

    async def of_community(self, community_id: int, now: datetime, limit: int) -> list[Event]:
        ongoing = await self.session.execute(
            select(*_EVENT_COLUMNS)
            .where(col(EventRow.community_id) == community_id, col(EventRow.ends_at) > now)
            .order_by(col(EventRow.starts_at), col(EventRow.id))
            .limit(limit)
        )
        ended = await self.session.execute(
            select(*_EVENT_COLUMNS)
            .where(col(EventRow.community_id) == community_id, col(EventRow.ends_at) <= now)
            .order_by(col(EventRow.starts_at).desc(), col(EventRow.id).desc())
            .limit(limit)
        )
        return [_event(row) for row in [*ongoing, *ended]]

    async def starting_between(self, start: datetime, end: datetime) -> list[Event]:
        """Scheduled events that start after ``start`` and no later than ``end``."""
        result = await self.session.execute(
            select(*_EVENT_COLUMNS)
            .where(
                col(EventRow.status) == EventStatus.SCHEDULED.value,
                col(EventRow.starts_at) > start,
                col(EventRow.starts_at) <= end,
            )
            .order_by(col(EventRow.starts_at), col(EventRow.id))
        )
        return [_event(row) for row in result]

    async def awaiting_feedback(self, ended_after: datetime, ended_before: datetime) -> list[Event]:
        """Scheduled events that ended in the window and whose attendees were not asked yet."""
        result = await self.session.execute(
            select(*_EVENT_COLUMNS)
            .where(
                col(EventRow.status) == EventStatus.SCHEDULED.value,
                col(EventRow.feedback_requested_at).is_(None),
                col(EventRow.ends_at) > ended_after,
                col(EventRow.ends_at) <= ended_before,
            )
            .order_by(col(EventRow.ends_at), col(EventRow.id))
        )
        return [_event(row) for row in result]

    async def mark_feedback_requested(self, event_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(EventRow)
            .where(col(EventRow.id) == event_id, col(EventRow.feedback_requested_at).is_(None))
            .values(feedback_requested_at=now)
            .returning(col(EventRow.id))
            .execution_options(synchronize_session=False)
        )
        return result.scalar_one_or_none() is not None

    # -- RSVPs

    async def rsvp(self, event_id: int, member_id: int) -> RsvpStatus | None:
        status = await self.session.scalar(
            select(col(RsvpRow.status)).where(
                col(RsvpRow.event_id) == event_id, col(RsvpRow.member_id) == member_id
            )
        )
        return RsvpStatus(status) if status is not None else None

    async def set_rsvp(
        self, event_id: int, member_id: int, status: RsvpStatus, now: datetime
    ) -> None:
        waitlisted_at = now if status is RsvpStatus.WAITLISTED else None
        position = None
        if status is RsvpStatus.WAITLISTED:
            last = await self.session.scalar(
                select(func.max(RsvpRow.waitlist_position)).where(col(RsvpRow.event_id) == event_id)
            )
            position = int(last or 0) + 1
        module = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(RsvpRow).values(
            event_id=event_id,
            member_id=member_id,
            status=status.value,
            answered_at=now,
            waitlisted_at=waitlisted_at,
            waitlist_position=position,
            reminded_hours=None,
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["event_id", "member_id"],
                set_={
                    "status": status.value,
                    "answered_at": now,
                    "waitlisted_at": waitlisted_at,
                    "waitlist_position": position,
                },
            )
        )

    async def counts(self, event_id: int) -> RsvpCounts:
        result = await self.session.execute(
            select(col(RsvpRow.status), func.count())
            .where(col(RsvpRow.event_id) == event_id)
            .group_by(col(RsvpRow.status))
        )
        found = {RsvpStatus(status): int(count) for status, count in result}
        return RsvpCounts(
            going=found.get(RsvpStatus.GOING, 0),
            waitlisted=found.get(RsvpStatus.WAITLISTED, 0),
            maybe=found.get(RsvpStatus.MAYBE, 0),
            not_going=found.get(RsvpStatus.NOT_GOING, 0),
        )

    async def first_waitlisted(self, event_id: int, limit: int) -> list[int]:
        if limit <= 0:
            return []
        result = await self.session.scalars(
            select(col(RsvpRow.member_id))
            .where(
                col(RsvpRow.event_id) == event_id,
                col(RsvpRow.status) == RsvpStatus.WAITLISTED.value,
            )
            .order_by(col(RsvpRow.waitlist_position), col(RsvpRow.member_id))
            .limit(limit)
        )
        return [int(member_id) for member_id in result]

    async def members_with(self, event_id: int, statuses: Collection[RsvpStatus]) -> list[int]:
        result = await self.session.scalars(
            select(col(RsvpRow.member_id))
            .where(
                col(RsvpRow.event_id) == event_id,
                col(RsvpRow.status).in_([status.value for status in statuses]),
            )
            .order_by(col(RsvpRow.member_id))
        )
        return [int(member_id) for member_id in result]

    async def to_remind(self, event_id: int, hours: int) -> list[int]:
        """Going members who can be written to and have not had this (or a closer) reminder."""
        result = await self.session.scalars(
            select(col(RsvpRow.member_id))
            .join(tables.Member, col(tables.Member.id) == col(RsvpRow.member_id))
            .where(
                col(RsvpRow.event_id) == event_id,
                col(RsvpRow.status) == RsvpStatus.GOING.value,
                or_(col(RsvpRow.reminded_hours).is_(None), col(RsvpRow.reminded_hours) > hours),
                col(tables.Member.started_bot).is_(True),
                col(tables.Member.reachable).is_(True),
            )
            .order_by(col(RsvpRow.member_id))
        )
        return [int(member_id) for member_id in result]

    async def mark_reminded(self, event_id: int, member_id: int, hours: int) -> None:
        await self.session.execute(
            update(RsvpRow)
            .where(col(RsvpRow.event_id) == event_id, col(RsvpRow.member_id) == member_id)
            .values(reminded_hours=hours)
            .execution_options(synchronize_session=False)
        )

    # -- attendance

    async def attend(self, event_id: int, member_id: int, now: datetime) -> bool:
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, AttendanceRow),
            {"event_id": event_id, "member_id": member_id, "checked_in_at": now},
        )

    async def attended(self, event_id: int, member_id: int) -> bool:
        found = await self.session.scalar(
            select(col(AttendanceRow.member_id)).where(
                col(AttendanceRow.event_id) == event_id,
                col(AttendanceRow.member_id) == member_id,
            )
        )
        return found is not None

    async def attendees(self, event_id: int) -> list[int]:
        result = await self.session.scalars(
            select(col(AttendanceRow.member_id))
            .where(col(AttendanceRow.event_id) == event_id)
            .order_by(col(AttendanceRow.member_id))
        )
        return [int(member_id) for member_id in result]

    # -- feedback

    async def save_feedback(
        self, event_id: int, member_id: int, now: datetime, **answers: int | str | None
    ) -> None:
        """Store one or more of ``rating``, ``recommend`` and ``comment`` (last answer wins)."""
        module = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(FeedbackRow).values(
            event_id=event_id, member_id=member_id, created_at=now, updated_at=now, **answers
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["event_id", "member_id"], set_={"updated_at": now, **answers}
            )
        )

    async def feedback(self, event_id: int) -> list[tuple[int | None, int | None, str | None]]:
        """(rating, recommend, comment) of every attendee who answered, oldest first."""
        result = await self.session.execute(
            select(col(FeedbackRow.rating), col(FeedbackRow.recommend), col(FeedbackRow.comment))
            .where(col(FeedbackRow.event_id) == event_id)
            .order_by(col(FeedbackRow.created_at), col(FeedbackRow.member_id))
        )
        return [(row[0], row[1], row[2]) for row in result]

    async def _set(self, event_id: int, **values: Any) -> None:
        await self.session.execute(
            update(EventRow)
            .where(col(EventRow.id) == event_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
