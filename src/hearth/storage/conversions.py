"""Conversions imported from the business, and the phone numbers members shared with the
bot (the key a business file may use). Never commits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    UniqueConstraint,
    delete,
    func,
    null,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col

from hearth.domain.conversions import Conversion, ConversionKind
from hearth.domain.exports import ConversionEntry
from hearth.storage import tables
from hearth.storage.repositories import _as_date, _Repository, insert_ignoring_duplicates
from hearth.storage.types import BigId, UTCDateTime

CHUNK = 500  # values per IN (…) list: well within every database's limit

Item = TypeVar("Item")


class ConversionRow(SQLModel, table=True):
    """One business event of one member; unique per community and key (re-imports add
    nothing)."""

    __tablename__ = "conversion"
    __table_args__ = (
        UniqueConstraint("community_id", "key", name="uq_conversion_key"),
        Index("ix_conversion_community_day", "community_id", "occurred_on"),
        Index("ix_conversion_member", "community_id", "member_id", "occurred_on"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=16)  # a ConversionKind
    occurred_on: date
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    key: str = Field(max_length=64)
    imported_at: datetime = Field(sa_type=UTCDateTime)


class MemberContactRow(SQLModel, table=True):
    """The phone number a member shared with the bot through Telegram's contact button,
    normalised to digits with a leading '+'. Only ever their own (checked on receipt)."""

    __tablename__ = "member_contact"
    __table_args__ = (Index("ix_member_contact_phone", "phone"),)

    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    phone: str = Field(max_length=20)
    shared_at: datetime = Field(sa_type=UTCDateTime)


class SqlConversionRepository(_Repository):
    """Conversions of every community, and the memberships a file's rows are matched to."""

    async def add_many(self, conversions: Sequence[Conversion], now: datetime) -> set[str]:
        """Insert the conversions, skipping keys the community has already; returns the
        keys that were new."""
        if not conversions:
            return set()
        rows = [
            {
                "community_id": each.community_id,
                "member_id": each.member_id,
                "kind": each.kind.value,
                "occurred_on": each.occurred_on,
                "amount_minor": each.amount_minor,
                "key": each.key,
                "imported_at": now,
            }
            for each in conversions
        ]
        statement = insert_ignoring_duplicates(self.dialect, ConversionRow).returning(
            col(ConversionRow.key)
        )
        # one cached statement, batched by SQLAlchemy ("insertmanyvalues"); rows skipped by
        # ON CONFLICT do not come back
        result = await self.session.execute(statement, rows)
        return {str(key) for (key,) in result}

    async def existing_keys(self, community_id: int, keys: Collection[str]) -> set[str]:
        """Which of ``keys`` the community's conversions hold already."""
        found: set[str] = set()
        for chunk in _chunks(sorted(keys)):
            found |= set(
                await self.session.scalars(
                    select(col(ConversionRow.key)).where(
                        col(ConversionRow.community_id) == community_id,
                        col(ConversionRow.key).in_(chunk),
                    )
                )
            )
        return found

    async def memberships(self, community_id: int, member_ids: Collection[int]) -> dict[int, bool]:
        """Those of ``member_ids`` who ever belonged to the community: id → a member now?"""
        membership = tables.Membership
        found: dict[int, bool] = {}
        for chunk in _chunks(sorted(member_ids)):
            result = await self.session.execute(
                select(col(membership.member_id), col(membership.left_at).is_(None)).where(
                    col(membership.community_id) == community_id,
                    col(membership.member_id).in_(chunk),
                )
            )
            found |= {int(member_id): bool(current) for member_id, current in result}
        return found

    async def count(self, community_id: int) -> int:
        """How many conversions the community holds."""
        statement = select(func.count()).where(col(ConversionRow.community_id) == community_id)
        return int(await self.session.scalar(statement) or 0)

    async def of_member(self, member_id: int) -> list[Conversion]:
        """The member's conversions in every community, oldest first."""
        rows = await self.session.scalars(
            select(ConversionRow)
            .where(col(ConversionRow.member_id) == member_id)
            .order_by(
                col(ConversionRow.community_id),
                col(ConversionRow.occurred_on),
                col(ConversionRow.id),
            )
        )
        return [
            Conversion(
                community_id=row.community_id,
                member_id=row.member_id,
                kind=ConversionKind(row.kind),
                occurred_on=_as_date(row.occurred_on),
                amount_minor=row.amount_minor,
                key=row.key,
                id=row.id,
            )
            for row in rows
        ]

    async def entries(
        self, community_id: int, size: int, *, with_phones: bool = False
    ) -> AsyncIterator[list[ConversionEntry]]:
        """The community's conversions for an export, by day, ``size`` at a time; the
        phone numbers members shared only ``with_phones`` (the table is not read else)."""
        member = tables.Member
        statement = (
            select(
                col(ConversionRow.member_id),
                col(member.first_name),
                col(member.last_name),
                col(member.forgotten_at),
                col(ConversionRow.kind),
                col(ConversionRow.occurred_on),
                col(ConversionRow.amount_minor),
                col(ConversionRow.key),
                col(MemberContactRow.phone) if with_phones else null(),
            )
            .join(member, col(member.id) == col(ConversionRow.member_id))
            .where(col(ConversionRow.community_id) == community_id)
            .order_by(col(ConversionRow.occurred_on), col(ConversionRow.id))
        )
        if with_phones:
            statement = statement.outerjoin(
                MemberContactRow, col(MemberContactRow.member_id) == col(ConversionRow.member_id)
            )
        result = await self.session.stream(statement.execution_options(yield_per=size))
        async for partition in result.partitions(size):
            yield [
                ConversionEntry(
                    member_id=int(member_id),
                    name=_name(first_name, last_name, forgotten_at),
                    kind=str(kind),
                    occurred_on=_as_date(occurred_on),
                    amount_minor=int(amount_minor),
                    key=str(key),
                    phone=None if phone is None else str(phone),
                )
                for (
                    member_id, first_name, last_name, forgotten_at, kind, occurred_on,
                    amount_minor, key, phone,
                ) in partition
            ]  # fmt: skip


class SqlMemberContactRepository(_Repository):
    """The phone numbers members shared with the bot. Read only by the conversion import,
    the member's own /mydata and exports an operator asked phone numbers for."""

    async def save(self, member_id: int, phone: str, now: datetime) -> None:
        """Keep the member's number (a newer one replaces the one before)."""
        values = {"phone": phone, "shared_at": now}
        module = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(MemberContactRow).values(member_id=member_id, **values)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["member_id"], set_=values)
        )

    async def phone_of(self, member_id: int) -> str | None:
        found = await self.session.scalar(
            select(col(MemberContactRow.phone)).where(col(MemberContactRow.member_id) == member_id)
        )
        return None if found is None else str(found)

    async def delete(self, member_id: int) -> int:
        """Forget the member's number; 1 when there was one, else 0."""
        result = await self.session.execute(
            delete(MemberContactRow).where(col(MemberContactRow.member_id) == member_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def owners(
        self, community_id: int, phones: Collection[str]
    ) -> dict[str, list[tuple[int, bool]]]:
        """For each of ``phones``, the members of the community (ever) who shared it, with
        whether they are members now."""
        membership = tables.Membership
        found: dict[str, list[tuple[int, bool]]] = {}
        for chunk in _chunks(sorted(phones)):
            result = await self.session.execute(
                select(
                    col(MemberContactRow.phone),
                    col(MemberContactRow.member_id),
                    col(membership.left_at).is_(None),
                )
                .join(membership, col(membership.member_id) == col(MemberContactRow.member_id))
                .where(
                    col(membership.community_id) == community_id,
                    col(MemberContactRow.phone).in_(chunk),
                )
                .order_by(col(MemberContactRow.member_id))
            )
            for phone, member_id, current in result:
                found.setdefault(str(phone), []).append((int(member_id), bool(current)))
        return found

    async def phones_of(self, member_ids: Collection[int]) -> dict[int, str]:
        """The numbers those of ``member_ids`` who shared one shared."""
        found: dict[int, str] = {}
        for chunk in _chunks(sorted(member_ids)):
            result = await self.session.execute(
                select(col(MemberContactRow.member_id), col(MemberContactRow.phone)).where(
                    col(MemberContactRow.member_id).in_(chunk)
                )
            )
            found |= {int(member_id): str(phone) for member_id, phone in result}
        return found


def _chunks(items: list[Item]) -> Iterator[list[Item]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _name(first_name: str, last_name: str | None, forgotten_at: datetime | None) -> str:
    """First and last name; only the anonymised first name of a forgotten member."""
    if forgotten_at is not None:
        return first_name
    return " ".join(part for part in (first_name, last_name) if part).strip()
