"""Channels (dealers, stores, partners), who came through their links, and the facts their
figures are made of (memberships, activity, attendance, conversions). Never commits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Row,
    UniqueConstraint,
    and_,
    case,
    delete,
    func,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.orm import aliased
from sqlmodel import Field, SQLModel, col

from hearth.domain.activity import PARTICIPATION_KINDS, ActivityKind
from hearth.domain.channels import Channel, ChannelTouch, ConversionTally, MemberJoin
from hearth.domain.members import JoinVia
from hearth.services.ports import TimeSpan
from hearth.storage import tables
from hearth.storage.conversions import ConversionRow
from hearth.storage.events import AttendanceRow, EventRow
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.types import BigId, UTCDateTime


class ChannelRow(SQLModel, table=True):
    """A dealer, store or partner of one community."""

    __tablename__ = "channel"
    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_channel_name"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    name: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    contact_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    archived: bool = False


class ChannelTouchRow(SQLModel, table=True):
    """Someone opened a channel's link: the earliest touch of a member in a community is
    the one they are attributed to; later ones are kept (one per channel and day is
    enough, so a member scanning the same QR code twice is one touch)."""

    __tablename__ = "channel_touch"
    __table_args__ = (
        UniqueConstraint(
            "community_id", "member_id", "channel_id", "touched_on", name="uq_channel_touch_day"
        ),
        Index("ix_channel_touch_member", "community_id", "member_id", "touched_at"),
        Index("ix_channel_touch_channel", "channel_id"),
        Index("ix_channel_touch_person", "member_id"),  # /mydata and /forget_me
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    channel_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("channel.id", ondelete="CASCADE"), nullable=False)
    )
    touched_at: datetime = Field(sa_type=UTCDateTime)
    touched_on: date  # the UTC day of touched_at


_COLUMNS = (
    col(ChannelRow.id),
    col(ChannelRow.community_id),
    col(ChannelRow.name),
    col(ChannelRow.created_at),
    col(ChannelRow.contact_id),
    col(ChannelRow.archived),
)
_JOIN = ActivityKind.JOIN.value
_PARTICIPATION = sorted(kind.value for kind in PARTICIPATION_KINDS)


def _channel(row: Row[*tuple[Any, ...]]) -> Channel:
    return Channel(
        id=row.id,
        community_id=row.community_id,
        name=row.name,
        created_at=row.created_at,
        contact_id=row.contact_id,
        archived=row.archived,
    )


class SqlChannelRepository(_Repository):
    """Channels, their touches, and the facts their figures are made of."""

    async def add(self, community_id: int, name: str, now: datetime) -> Channel | None:
        """A new channel; None when the community has one by this very name."""
        return await self._mapped(
            insert_ignoring_duplicates(self.dialect, ChannelRow)
            .values(community_id=community_id, name=name[:64], created_at=now, archived=False)
            .returning(*_COLUMNS),
            _channel,
        )

    async def get(self, channel_id: int) -> Channel | None:
        return await self._mapped(
            select(*_COLUMNS).where(col(ChannelRow.id) == channel_id), _channel
        )

    async def of_community(self, community_id: int) -> list[Channel]:
        """The community's channels, by number (archived ones too)."""
        result = await self.session.execute(
            select(*_COLUMNS)
            .where(col(ChannelRow.community_id) == community_id)
            .order_by(col(ChannelRow.id))
        )
        return [_channel(row) for row in result]

    async def of_contact(self, member_id: int) -> list[Channel]:
        """The channels whose contact person the member is now."""
        result = await self.session.execute(
            select(*_COLUMNS)
            .where(col(ChannelRow.contact_id) == member_id)
            .order_by(col(ChannelRow.id))
        )
        return [_channel(row) for row in result]

    async def rename(self, channel_id: int, name: str) -> bool:
        """False when another channel of the community has this very name."""
        other = aliased(ChannelRow)
        taken = (
            select(col(other.id))
            .where(
                col(other.community_id) == col(ChannelRow.community_id),
                col(other.name) == name,
                col(other.id) != channel_id,
            )
            .exists()
        )
        return await self._changed(channel_id, ~taken, name=name[:64])

    async def set_archived(self, channel_id: int, archived: bool) -> bool:
        """False when the channel was so already."""
        return await self._changed(
            channel_id, col(ChannelRow.archived).is_not(archived), archived=archived
        )

    async def set_contact(self, channel_id: int, contact_id: int | None) -> None:
        await self._changed(channel_id, true(), contact_id=contact_id)

    async def add_touch(self, touch: ChannelTouch) -> bool:
        """Record a touch; False when the member touched the channel on that UTC day."""
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, ChannelTouchRow),
            {
                "community_id": touch.community_id,
                "member_id": touch.member_id,
                "channel_id": touch.channel_id,
                "touched_at": touch.touched_at,
                "touched_on": touch.touched_at.astimezone(UTC).date(),
            },
        )

    async def touches(self, community_id: int) -> list[ChannelTouch]:
        """Every touch of the community's channels."""
        return await self._touches(col(ChannelTouchRow.community_id) == community_id)

    async def touches_of(self, member_id: int) -> list[ChannelTouch]:
        """Every touch of one member, in every community."""
        return await self._touches(col(ChannelTouchRow.member_id) == member_id)

    async def delete_touches(self, member_id: int) -> int:
        result = await self.session.execute(
            delete(ChannelTouchRow).where(col(ChannelTouchRow.member_id) == member_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def joins(self, community_id: int, member_id: int | None = None) -> list[MemberJoin]:
        """The community's members (current and former; one of them with ``member_id``)
        with their first join: a member who came back has a later ``joined_at``, their
        first join is their earliest join activity."""
        membership, activity = tables.Membership, tables.Activity
        first_join = (
            select(func.min(col(activity.occurred_at)))
            .where(
                col(activity.community_id) == col(membership.community_id),
                col(activity.member_id) == col(membership.member_id),
                col(activity.kind) == _JOIN,
            )
            .scalar_subquery()
        )
        statement = select(
            col(membership.member_id),
            col(membership.joined_at),
            type_coerce(
                case((col(membership.join_count) > 1, first_join), else_=None), UTCDateTime
            ),
            col(membership.joined_via),
            col(membership.left_at),
        ).where(col(membership.community_id) == community_id)
        if member_id is not None:
            statement = statement.where(col(membership.member_id) == member_id)
        return [
            MemberJoin(
                member_id=row[0],
                first_joined_at=min(row[1], row[2]) if row[2] is not None else row[1],
                seen=row[3] == JoinVia.SEEN.value,
                current=row[4] is None,
            )
            for row in await self.session.execute(statement)
        ]

    async def active_days(
        self, community_id: int, span: TimeSpan, joined_since: datetime
    ) -> dict[int, list[tuple[datetime, datetime]]]:
        """Member id -> (first, last moment) of each local day they took part within
        ``span``, for the members whose membership began at ``joined_since`` or later."""
        activity, membership = tables.Activity, tables.Membership
        occurred = col(activity.occurred_at)
        result = await self.session.execute(
            select(
                col(activity.member_id),
                type_coerce(func.min(occurred), UTCDateTime),
                type_coerce(func.max(occurred), UTCDateTime),
            )
            .join(
                membership,
                and_(
                    col(membership.community_id) == col(activity.community_id),
                    col(membership.member_id) == col(activity.member_id),
                ),
            )
            .where(
                col(activity.community_id) == community_id,
                col(activity.kind).in_(_PARTICIPATION),
                occurred >= span[0],
                occurred < span[1],
                col(membership.joined_at) >= joined_since,
            )
            .group_by(col(activity.member_id), col(activity.local_day))
        )
        days: dict[int, list[tuple[datetime, datetime]]] = {}
        for member_id, first, last in result:
            days.setdefault(member_id, []).append((first, last))
        return days

    async def active_members(
        self, community_id: int, span: TimeSpan, joined_since: datetime
    ) -> set[int]:
        """Members who took part within ``span``, among those whose membership began at
        ``joined_since`` or later."""
        activity, membership = tables.Activity, tables.Membership
        result = await self.session.scalars(
            select(col(activity.member_id))
            .distinct()
            .join(
                membership,
                and_(
                    col(membership.community_id) == col(activity.community_id),
                    col(membership.member_id) == col(activity.member_id),
                ),
            )
            .where(
                col(activity.community_id) == community_id,
                col(activity.kind).in_(_PARTICIPATION),
                col(activity.occurred_at) >= span[0],
                col(activity.occurred_at) < span[1],
                col(membership.joined_at) >= joined_since,
            )
        )
        return set(result)

    async def attendances(self, community_id: int, span: TimeSpan) -> dict[int, int]:
        """Member id -> on-site check-ins at the community's events within ``span``."""
        checked_in = col(AttendanceRow.checked_in_at)
        result = await self.session.execute(
            select(col(AttendanceRow.member_id), func.count())
            .join(EventRow, col(EventRow.id) == col(AttendanceRow.event_id))
            .where(
                col(EventRow.community_id) == community_id,
                checked_in >= span[0],
                checked_in < span[1],
            )
            .group_by(col(AttendanceRow.member_id))
        )
        return {member_id: int(count) for member_id, count in result}

    async def conversions(
        self, community_id: int, first: date, last: date
    ) -> list[ConversionTally]:
        """Each member's conversions per kind on the days ``first`` to ``last``."""
        result = await self.session.execute(
            select(
                col(ConversionRow.member_id),
                col(ConversionRow.kind),
                func.count(),
                func.coalesce(func.sum(col(ConversionRow.amount_minor)), 0),
            )
            .where(
                col(ConversionRow.community_id) == community_id,
                col(ConversionRow.occurred_on) >= first,
                col(ConversionRow.occurred_on) <= last,
            )
            .group_by(col(ConversionRow.member_id), col(ConversionRow.kind))
        )
        return [
            ConversionTally(member_id, kind, int(count), int(amount))
            for member_id, kind, count, amount in result
        ]

    async def _touches(self, condition: Any) -> list[ChannelTouch]:
        row = ChannelTouchRow
        result = await self.session.execute(
            select(
                col(row.community_id), col(row.member_id), col(row.channel_id), col(row.touched_at)
            )
            .where(condition)
            .order_by(col(row.touched_at), col(row.channel_id))
        )
        return [ChannelTouch(*found) for found in result]

    async def _changed(self, channel_id: int, condition: Any, **values: Any) -> bool:
        result = await self.session.execute(
            update(ChannelRow)
            .where(col(ChannelRow.id) == channel_id, condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))
