"""Newcomer missions: each community's programme and the missions newcomers completed.
Never commits.

A community without a programme row runs ``DEFAULT_PROGRAMME``; the first change by an
operator stores the whole programme. A completion is stored once per member, community and
mission (the first activity that did it), whether the programme was on or off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col

from hearth.domain.members import JoinVia
from hearth.domain.missions import (
    DEFAULT_PROGRAMME,
    Mission,
    MissionRule,
    Programme,
)
from hearth.storage import tables
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.types import UTCDateTime


class MissionProgrammeRow(SQLModel, table=True):
    """A community's missions as its operators set them: on or off, the bonus, and per
    mission whether it is on the list and its points (``{"checkin": [true, 10], …}``)."""

    __tablename__ = "mission_programme"

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    enabled: bool = False
    bonus: int = 0
    rules: dict[str, list[Any]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    updated_at: datetime = Field(sa_type=UTCDateTime)


class MissionCompletionRow(SQLModel, table=True):
    """A newcomer did a mission: the time of the first activity that did it."""

    __tablename__ = "mission_completion"

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    mission: str = Field(max_length=16, primary_key=True)
    completed_at: datetime = Field(sa_type=UTCDateTime)


Completions = dict[Mission, datetime]
_KNOWN = frozenset(mission.value for mission in Mission)  # a row of a mission since dropped


class SqlMissionRepository(_Repository):
    """Programmes and completions."""

    async def programme(self, community_id: int) -> Programme:
        """The community's programme: its operators' or, until they change it, the default."""
        row = await self.session.get(MissionProgrammeRow, community_id)
        if row is None:
            return DEFAULT_PROGRAMME
        rules = []
        for default in DEFAULT_PROGRAMME.rules:
            stored = row.rules.get(default.mission.value)
            if isinstance(stored, list) and len(stored) == 2:
                rules.append(MissionRule(default.mission, bool(stored[0]), int(stored[1])))
            else:  # a mission newer than the stored programme
                rules.append(default)
        return Programme(row.enabled, row.bonus, tuple(rules), configured=True)

    async def save(self, community_id: int, programme: Programme, now: datetime) -> None:
        """Store the whole programme."""
        values = {
            "enabled": programme.enabled,
            "bonus": programme.bonus,
            "rules": {rule.mission.value: [rule.enabled, rule.points] for rule in programme.rules},
            "updated_at": now,
        }
        module = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(MissionProgrammeRow).values(community_id=community_id, **values)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["community_id"], set_=values)
        )

    async def newcomers(
        self, community_id: int, member_ids: Collection[int], since: datetime
    ) -> dict[int, datetime]:
        """When each of ``member_ids`` joined, for those who are members now and whom Hearth
        saw join at or after ``since`` (members first seen taking part never joined)."""
        if not member_ids:
            return {}
        membership = tables.Membership
        result = await self.session.execute(
            select(col(membership.member_id), col(membership.joined_at)).where(
                col(membership.community_id) == community_id,
                col(membership.member_id).in_(sorted(member_ids)),
                col(membership.joined_via) == JoinVia.JOIN.value,
                col(membership.left_at).is_(None),
                col(membership.joined_at) >= since,
            )
        )
        return {int(row[0]): row[1] for row in result}

    async def completions(
        self, community_id: int, member_ids: Collection[int]
    ) -> dict[int, Completions]:
        """The missions each member did, with when."""
        if not member_ids:
            return {}
        result = await self.session.execute(
            select(
                col(MissionCompletionRow.member_id),
                col(MissionCompletionRow.mission),
                col(MissionCompletionRow.completed_at),
            ).where(
                col(MissionCompletionRow.community_id) == community_id,
                col(MissionCompletionRow.member_id).in_(sorted(member_ids)),
            )
        )
        found: dict[int, Completions] = defaultdict(dict)
        for member_id, mission, completed_at in result:
            if mission in _KNOWN:
                found[int(member_id)][Mission(mission)] = completed_at
        return dict(found)

    async def complete(
        self, community_id: int, member_id: int, mission: Mission, at: datetime
    ) -> bool:
        """Record a completion; False when the mission was done before."""
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, MissionCompletionRow),
            {
                "community_id": community_id,
                "member_id": member_id,
                "mission": mission.value,
                "completed_at": at,
            },
        )

    async def joined_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[tuple[datetime, Completions]]:
        """(joined at, missions done) of the members Hearth saw join from ``start`` until
        before ``end`` (those who left since included)."""
        membership = tables.Membership
        completion = MissionCompletionRow
        result = await self.session.execute(
            select(
                col(membership.member_id),
                col(membership.joined_at),
                col(completion.mission),
                col(completion.completed_at),
            )
            .outerjoin(
                completion,
                and_(
                    col(completion.community_id) == col(membership.community_id),
                    col(completion.member_id) == col(membership.member_id),
                ),
            )
            .where(
                col(membership.community_id) == community_id,
                col(membership.joined_via) == JoinVia.JOIN.value,
                col(membership.joined_at) >= start,
                col(membership.joined_at) < end,
            )
        )
        joined: dict[int, datetime] = {}
        done: dict[int, Completions] = defaultdict(dict)
        for member_id, joined_at, mission, completed_at in result:
            joined[int(member_id)] = joined_at
            if mission in _KNOWN and completed_at is not None:
                done[int(member_id)][Mission(mission)] = completed_at
        return [(joined[member], done.get(member, {})) for member in sorted(joined)]
