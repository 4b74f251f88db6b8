"""What greetings need: birthdays and the opt-in, in tables of their own. Never commits.

A member tells their birthday once (month and day, never the year); the opt-in is per
community, like every other way the bot may write to a member.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col

from hearth.domain.greetings import Birthday, GreetingCandidate
from hearth.domain.members import JoinVia
from hearth.storage import tables
from hearth.storage.repositories import _Repository, member_profile
from hearth.storage.tables import _utc


class MemberBirthday(SQLModel, table=True):
    """The month and day a member told the bot (``MM-DD``)."""

    __tablename__ = "member_birthday"

    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    birthday: str = Field(max_length=5)
    updated_at: datetime = _utc()


class GreetingOptIn(SQLModel, table=True):
    """A member who asked for anniversary and birthday greetings from this community."""

    __tablename__ = "greeting_opt_in"

    community_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True
        )
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    created_at: datetime = _utc()


class SqlGreetingsRepository(_Repository):
    async def set_birthday(self, member_id: int, birthday: Birthday | None, now: datetime) -> None:
        if birthday is None:
            await self.session.execute(
                delete(MemberBirthday).where(col(MemberBirthday.member_id) == member_id)
            )
            return
        module = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(MemberBirthday).values(
            member_id=member_id, birthday=birthday.spec(), updated_at=now
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["member_id"],
                set_={"birthday": statement.excluded.birthday, "updated_at": now},
            )
        )

    async def birthday(self, member_id: int) -> Birthday | None:
        spec = await self.session.scalar(
            select(col(MemberBirthday.birthday)).where(col(MemberBirthday.member_id) == member_id)
        )
        return Birthday.from_spec(spec) if spec else None

    async def set_greetings(
        self, member_id: int, community_ids: Collection[int], enabled: bool, now: datetime
    ) -> None:
        """Opt in in these communities; opting out holds everywhere, also in a community the
        member has left (or the bot has), so that coming back does not turn greetings on."""
        if not enabled:
            await self.session.execute(
                delete(GreetingOptIn).where(col(GreetingOptIn.member_id) == member_id)
            )
            return
        await self._set_member_rows(
            GreetingOptIn, member_id, community_ids, present=enabled, now=now
        )

    async def greetings_on(self, member_id: int) -> bool:
        """Whether the member opted in to greetings in any community."""
        found = await self.session.scalar(
            select(col(GreetingOptIn.member_id)).where(col(GreetingOptIn.member_id) == member_id)
        )
        return found is not None

    async def candidates(self, community_id: int) -> list[GreetingCandidate]:
        """Current members who opted in, started the bot and can be reached."""
        membership, member = tables.Membership, tables.Member
        result = await self.session.execute(
            select(
                member,
                col(membership.joined_at),
                col(membership.joined_via),
                col(MemberBirthday.birthday),
            )
            .join(membership, col(membership.member_id) == col(member.id))
            .join(
                GreetingOptIn,
                (col(GreetingOptIn.member_id) == col(member.id))
                & (col(GreetingOptIn.community_id) == col(membership.community_id)),
            )
            .outerjoin(MemberBirthday, col(MemberBirthday.member_id) == col(member.id))
            .where(
                col(membership.community_id) == community_id,
                col(membership.left_at).is_(None),
                col(member.started_bot).is_(True),
                col(member.reachable).is_(True),
            )
            .order_by(col(member.id))
        )
        found: list[GreetingCandidate] = []
        for row, joined_at, joined_via, birthday in result:
            found.append(
                GreetingCandidate(
                    member=member_profile(row),
                    # Hearth saw the member join, or only found them there (date unknown).
                    joined_at=joined_at if joined_via == JoinVia.JOIN.value else None,
                    birthday=Birthday.from_spec(birthday) if birthday else None,
                )
            )
        return found
