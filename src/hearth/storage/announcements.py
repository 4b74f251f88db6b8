"""Announcements and their runs. The repository never commits.

A run is one row per (announcement, scheduled instant), inserted with ``ON CONFLICT DO
NOTHING``: whoever inserts it owns that instant, so a job that runs twice, or a restart
that looks at the same instant again, decides it once.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Text,
    UniqueConstraint,
    exists,
    func,
    select,
    update,
)
from sqlmodel import Field, SQLModel, col

from hearth.domain.announcements import Announcement, Audience, NewAnnouncement, RunStatus
from hearth.domain.members import MemberProfile
from hearth.domain.schedules import schedule_from_spec
from hearth.storage import tables
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates, member_profile
from hearth.storage.tables import _utc
from hearth.storage.types import BigId


class AnnouncementRow(SQLModel, table=True):
    """What an operator posts, when, and to whom; deleted ones are kept for their runs."""

    __tablename__ = "announcement"
    __table_args__ = (Index("ix_announcement_community", "community_id", "deleted_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    html: str = Field(sa_column=Column(Text, nullable=False))
    photo: str | None = Field(default=None, max_length=255)  # a Telegram file id
    schedule: str = Field(max_length=64)  # the canonical spec, in community time
    audience: str = Field(max_length=16)
    paused: bool = False
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _utc()
    active_since: datetime = _utc()  # runs before this are not caught up
    finished_at: datetime | None = _utc(default=None, nullable=True)  # a one-off that ran
    deleted_at: datetime | None = _utc(default=None, nullable=True)


class AnnouncementRunRow(SQLModel, table=True):
    """One scheduled instant of an announcement, sent or skipped: never decided twice."""

    __tablename__ = "announcement_run"
    __table_args__ = (
        UniqueConstraint("announcement_id", "scheduled_for", name="uq_announcement_run"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    announcement_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("announcement.id", ondelete="CASCADE"), nullable=False
        )
    )
    scheduled_for: datetime = _utc()
    status: str = Field(max_length=16)
    recorded_at: datetime = _utc()


class AnnouncementOptOut(SQLModel, table=True):
    """A member who wants no announcements in private from this community (the group's
    copy still reaches them)."""

    __tablename__ = "announcement_opt_out"

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    created_at: datetime = _utc()


def _announcement(row: AnnouncementRow) -> Announcement:
    assert row.id is not None
    return Announcement(
        id=row.id,
        community_id=row.community_id,
        html=row.html,
        photo=row.photo,
        schedule=schedule_from_spec(row.schedule),
        audience=Audience(row.audience),
        paused=row.paused,
        created_by=row.created_by,
        created_at=row.created_at,
        active_since=row.active_since,
    )


class SqlAnnouncementRepository(_Repository):
    async def add(
        self, announcement: NewAnnouncement, *, actor_id: int | None, now: datetime
    ) -> Announcement:
        row = AnnouncementRow(
            community_id=announcement.community_id,
            html=announcement.html,
            photo=announcement.photo,
            schedule=announcement.schedule.spec(),
            audience=announcement.audience.value,
            created_by=actor_id,
            created_at=now,
            active_since=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _announcement(row)

    async def get(self, announcement_id: int) -> Announcement | None:
        row = await self.session.scalar(
            select(AnnouncementRow)
            .where(
                col(AnnouncementRow.id) == announcement_id,
                col(AnnouncementRow.deleted_at).is_(None),
            )
            .execution_options(populate_existing=True)
        )
        return _announcement(row) if row is not None else None

    async def of_communities(self, community_ids: Collection[int]) -> list[Announcement]:
        """Announcements not deleted and not finished, oldest first."""
        rows = await self.session.scalars(
            select(AnnouncementRow)
            .where(
                col(AnnouncementRow.community_id).in_(list(community_ids)),
                col(AnnouncementRow.deleted_at).is_(None),
                col(AnnouncementRow.finished_at).is_(None),
            )
            .order_by(col(AnnouncementRow.id))
        )
        return [_announcement(row) for row in rows]

    async def scheduled(self) -> list[Announcement]:
        """Every announcement that may still run: not paused, deleted or finished."""
        rows = await self.session.scalars(
            select(AnnouncementRow)
            .where(
                col(AnnouncementRow.paused).is_(False),
                col(AnnouncementRow.deleted_at).is_(None),
                col(AnnouncementRow.finished_at).is_(None),
            )
            .order_by(col(AnnouncementRow.id))
        )
        return [_announcement(row) for row in rows]

    async def set_paused(self, announcement_id: int, paused: bool, now: datetime) -> bool:
        """Pause or resume; False when it already was. Resuming does not catch up the pause."""
        values: dict[str, object] = {"paused": paused}
        if not paused:
            values["active_since"] = now
        return await self._changed(
            announcement_id, col(AnnouncementRow.paused).is_(not paused), values
        )

    async def delete(self, announcement_id: int, now: datetime) -> bool:
        return await self._changed(
            announcement_id, col(AnnouncementRow.deleted_at).is_(None), {"deleted_at": now}
        )

    async def finish(self, announcement_id: int, now: datetime) -> None:
        """A one-off has no run left."""
        await self._changed(
            announcement_id, col(AnnouncementRow.finished_at).is_(None), {"finished_at": now}
        )

    async def record_run(
        self, announcement_id: int, scheduled_for: datetime, status: RunStatus, now: datetime
    ) -> bool:
        """Claim one scheduled instant; False when it was decided before."""
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, AnnouncementRunRow),
            {
                "announcement_id": announcement_id,
                "scheduled_for": scheduled_for,
                "status": status.value,
                "recorded_at": now,
            },
        )

    async def last_runs(self, announcement_ids: Collection[int]) -> dict[int, datetime]:
        """The latest instant decided (sent or skipped) of each announcement."""
        result = await self.session.execute(
            select(
                col(AnnouncementRunRow.announcement_id), func.max(AnnouncementRunRow.scheduled_for)
            )
            .where(col(AnnouncementRunRow.announcement_id).in_(list(announcement_ids)))
            .group_by(col(AnnouncementRunRow.announcement_id))
        )
        return {int(row[0]): row[1] for row in result if row[1] is not None}

    async def runs(self, announcement_id: int) -> list[tuple[datetime, RunStatus]]:
        """Every decided instant, oldest first."""
        result = await self.session.execute(
            select(col(AnnouncementRunRow.scheduled_for), col(AnnouncementRunRow.status))
            .where(col(AnnouncementRunRow.announcement_id) == announcement_id)
            .order_by(col(AnnouncementRunRow.scheduled_for))
        )
        return [(row[0], RunStatus(row[1])) for row in result]

    async def private_audience(self, community_id: int) -> list[MemberProfile]:
        """Current members who started the bot, can be reached and did not opt out."""
        membership, member = tables.Membership, tables.Member
        rows = await self.session.scalars(
            select(member)
            .join(membership, col(membership.member_id) == col(member.id))
            .where(
                col(membership.community_id) == community_id,
                col(membership.left_at).is_(None),
                col(member.started_bot).is_(True),
                col(member.reachable).is_(True),
            )
            .where(~exists().where(*_opted_out(community_id, col(member.id))))
            .order_by(col(member.id))
        )
        return [member_profile(row) for row in rows]

    async def set_private_copies(
        self, member_id: int, community_ids: Collection[int], enabled: bool, now: datetime
    ) -> None:
        """Opt a member in to (or out of) announcements in private from these communities."""
        await self._set_member_rows(
            AnnouncementOptOut, member_id, community_ids, present=not enabled, now=now
        )

    async def _changed(
        self, announcement_id: int, condition: object, values: dict[str, object]
    ) -> bool:
        result = await self.session.execute(
            update(AnnouncementRow)
            .where(
                col(AnnouncementRow.id) == announcement_id,
                col(AnnouncementRow.deleted_at).is_(None),
                condition,  # type: ignore[arg-type]
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


def _opted_out(community_id: int, member_id: Any) -> tuple[Any, ...]:
    return (
        col(AnnouncementOptOut.community_id) == community_id,
        col(AnnouncementOptOut.member_id) == member_id,
    )
