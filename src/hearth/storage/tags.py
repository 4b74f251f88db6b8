"""Operator tags: labels operators put on members of their community (``/tag @user vip``).

Automatic tags (tier, interests, habits) are recomputed daily and stored with the standing
in ``membership_stage``; the operators' tags live here, one row per tag, until removed.
Never commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, delete, func, select
from sqlmodel import Field, SQLModel, col

from hearth.storage import tables
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.types import UTCDateTime


class MemberTagRow(SQLModel, table=True):
    """One operator tag on one membership."""

    __tablename__ = "member_tag"
    __table_args__ = (Index("ix_member_tag_community_tag", "community_id", "tag"),)

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(max_length=32, primary_key=True)  # a slug: see ``rfm.tag_slug``
    added_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    added_at: datetime = Field(sa_type=UTCDateTime)


class SqlTagRepository(_Repository):
    """Operator tags of one community's members."""

    async def add(
        self,
        community_id: int,
        member_id: int,
        tags: Sequence[str],
        *,
        actor_id: int | None,
        now: datetime,
    ) -> list[str]:
        """Put ``tags`` (slugs) on the member; the ones that were new, in the given order."""
        known = set(await self.of_member(community_id, member_id))
        new = [tag for tag in dict.fromkeys(tags) if tag not in known]
        if new:
            rows = [
                {
                    "community_id": community_id,
                    "member_id": member_id,
                    "tag": tag,
                    "added_by": actor_id,
                    "added_at": now,
                }
                for tag in new
            ]
            await self.session.execute(insert_ignoring_duplicates(self.dialect, MemberTagRow), rows)
        return new

    async def remove(self, community_id: int, member_id: int, tags: Sequence[str]) -> list[str]:
        """Take ``tags`` off the member; the ones they had, in the given order."""
        had = set(await self.of_member(community_id, member_id))
        gone = [tag for tag in dict.fromkeys(tags) if tag in had]
        if gone:
            await self.session.execute(
                delete(MemberTagRow).where(
                    col(MemberTagRow.community_id) == community_id,
                    col(MemberTagRow.member_id) == member_id,
                    col(MemberTagRow.tag).in_(gone),
                )
            )
        return gone

    async def of_member(self, community_id: int, member_id: int) -> list[str]:
        """The member's operator tags, sorted."""
        result = await self.session.scalars(
            select(col(MemberTagRow.tag))
            .where(
                col(MemberTagRow.community_id) == community_id,
                col(MemberTagRow.member_id) == member_id,
            )
            .order_by(col(MemberTagRow.tag))
        )
        return [str(tag) for tag in result]

    async def of_members(
        self, community_id: int, member_ids: Collection[int]
    ) -> dict[int, tuple[str, ...]]:
        """Operator tags (sorted) of each of the members who has any."""
        if not member_ids:
            return {}
        result = await self.session.execute(
            select(col(MemberTagRow.member_id), col(MemberTagRow.tag))
            .where(
                col(MemberTagRow.community_id) == community_id,
                col(MemberTagRow.member_id).in_(list(member_ids)),
            )
            .order_by(col(MemberTagRow.member_id), col(MemberTagRow.tag))
        )
        tags: dict[int, list[str]] = {}
        for member_id, tag in result:
            tags.setdefault(int(member_id), []).append(str(tag))
        return {member_id: tuple(found) for member_id, found in tags.items()}

    async def counts(self, community_id: int) -> dict[str, int]:
        """Current members per operator tag, most used first."""
        tag = col(MemberTagRow.tag)
        members = func.count()
        result = await self.session.execute(
            select(tag, members)
            .join(
                tables.Membership,
                (col(tables.Membership.community_id) == col(MemberTagRow.community_id))
                & (col(tables.Membership.member_id) == col(MemberTagRow.member_id)),
            )
            .where(
                col(MemberTagRow.community_id) == community_id,
                col(tables.Membership.left_at).is_(None),
            )
            .group_by(tag)
            .order_by(members.desc(), tag)
        )
        return {str(row[0]): int(row[1]) for row in result}
