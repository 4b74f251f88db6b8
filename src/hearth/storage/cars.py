"""Owner car profiles, each community's maintenance reminder settings and the service
requests members sent from a reminder. Never commits.

A community without a settings row has maintenance reminders off, with the default interval.
A request is unique per (community, member, due day): pressing "Book a service" twice asks
once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    UniqueConstraint,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col

from hearth.domain.cars import (
    CarProfile,
    Reading,
    ServiceInterval,
    ServiceRequest,
    ServiceRequestLine,
    ServiceSettings,
    stored_models,
)
from hearth.storage import tables
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.types import BigId, UTCDateTime


def _community_key() -> Any:
    return Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), primary_key=True)


def _member_key() -> Any:
    return Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)


class CarProfileRow(SQLModel, table=True):
    """A member's car in one community, and where their maintenance reminders stand."""

    __tablename__ = "car_profile"

    community_id: int = Field(sa_column=_community_key())
    member_id: int = Field(sa_column=_member_key())
    model: str | None = Field(default=None, max_length=40)
    year: int | None = None
    purchased_on: date | None = None
    mileage_km: int | None = None
    mileage_on: date | None = None
    previous_km: int | None = None  # the reading before, for the member's pace
    previous_on: date | None = None
    serviced_on: date | None = None
    service_km: int | None = None
    reminders_on: bool = True
    snoozes: int = 0
    snoozed_until: date | None = None
    reminded_due: date | None = None  # the due day and snooze round last reminded about
    reminded_round: int = 0
    owner_years: str | None = Field(default=None, max_length=32)  # the tag last derived
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ServiceSettingsRow(SQLModel, table=True):
    """A community's maintenance reminders as its operators set them; per-model intervals
    as ``{slug: [label, months, km]}``."""

    __tablename__ = "service_settings"

    community_id: int = Field(sa_column=_community_key())
    enabled: bool = False
    months: int = 12
    km: int = 10_000
    models: dict[str, list[Any]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    booking_url: str | None = Field(default=None, max_length=256)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ServiceRequestRow(SQLModel, table=True):
    """A member asked, from a reminder, to book a service; ``done_at`` once an operator
    dealt with it."""

    __tablename__ = "service_request"
    __table_args__ = (
        UniqueConstraint("community_id", "member_id", "due_on", name="uq_service_request_due"),
        Index("ix_service_request_open", "community_id", "done_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    due_on: date
    requested_at: datetime = Field(sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    done_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class SqlCarRepository(_Repository):
    """Car profiles, service settings and service requests of every community."""

    # -- profiles

    async def get(self, community_id: int, member_id: int) -> CarProfile | None:
        row = await self.session.get(
            CarProfileRow, (community_id, member_id), populate_existing=True
        )
        return _profile(row) if row is not None else None

    async def save(self, profile: CarProfile, now: datetime) -> None:
        """Store the whole profile (insert or replace)."""
        values = _values(profile) | {"updated_at": now}
        module = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(CarProfileRow).values(
            community_id=profile.community_id, member_id=profile.member_id, **values
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["community_id", "member_id"], set_=values
            )
        )

    async def of_member(self, member_id: int) -> list[CarProfile]:
        """The member's profiles in every community."""
        found = await self.session.scalars(
            select(CarProfileRow)
            .where(col(CarProfileRow.member_id) == member_id)
            .order_by(col(CarProfileRow.community_id))
        )
        return [_profile(row) for row in found]

    async def reminder_candidates(self) -> list[CarProfile]:
        """Profiles that may owe a reminder: reminders on, a service day or a mileage, in
        an active community whose operators turned maintenance reminders on."""
        row, settings = CarProfileRow, ServiceSettingsRow
        found = await self.session.scalars(
            select(row)
            .join(settings, col(settings.community_id) == col(row.community_id))
            .join(tables.Community, col(tables.Community.id) == col(row.community_id))
            .where(
                col(settings.enabled).is_(True),
                col(tables.Community.active).is_(True),
                col(row.reminders_on).is_(True),
                or_(col(row.serviced_on).is_not(None), col(row.mileage_km).is_not(None)),
            )
            .order_by(col(row.community_id), col(row.member_id))
        )
        return [_profile(each) for each in found]

    async def with_purchase(self) -> list[CarProfile]:
        """Profiles with a purchase day (their ``owner-years:`` tag moves with time)."""
        found = await self.session.scalars(
            select(CarProfileRow).where(col(CarProfileRow.purchased_on).is_not(None))
        )
        return [_profile(row) for row in found]

    async def mark_reminded(
        self, community_id: int, member_id: int, due_on: date, round_: int
    ) -> bool:
        """Record the reminder about ``due_on`` (snooze round ``round_``); False when it was
        recorded already (a second run, or another worker)."""
        row = CarProfileRow
        result = await self.session.execute(
            update(row)
            .where(
                col(row.community_id) == community_id,
                col(row.member_id) == member_id,
                or_(
                    col(row.reminded_due).is_(None),
                    col(row.reminded_due) != due_on,
                    col(row.reminded_round) < round_,
                ),
            )
            .values(reminded_due=due_on, reminded_round=round_)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def delete_profiles(self, member_id: int) -> int:
        """Erase the member's car in every community (``/forget_me``)."""
        result = await self.session.execute(
            delete(CarProfileRow).where(col(CarProfileRow.member_id) == member_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # -- settings

    async def settings(self, community_id: int) -> ServiceSettings:
        """The community's settings: its operators' or, until they change them, the
        defaults (reminders off)."""
        row = await self.session.get(ServiceSettingsRow, community_id, populate_existing=True)
        if row is None:
            return ServiceSettings()
        return ServiceSettings(
            enabled=row.enabled,
            interval=ServiceInterval(row.months, row.km),
            models=stored_models(row.models),
            booking_url=row.booking_url,
            configured=True,
        )

    async def save_settings(
        self, community_id: int, settings: ServiceSettings, now: datetime
    ) -> None:
        values = {
            "enabled": settings.enabled,
            "months": settings.interval.months,
            "km": settings.interval.km,
            "models": {
                each.slug: [each.label, each.interval.months, each.interval.km]
                for each in settings.models
            },
            "booking_url": settings.booking_url,
            "updated_at": now,
        }
        module = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(ServiceSettingsRow).values(community_id=community_id, **values)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["community_id"], set_=values)
        )

    # -- requests

    async def add_request(
        self, community_id: int, member_id: int, due_on: date, now: datetime
    ) -> bool:
        """Record a request; False when the member asked for this due day before."""
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, ServiceRequestRow),
            {
                "community_id": community_id,
                "member_id": member_id,
                "due_on": due_on,
                "requested_at": now,
            },
        )

    async def request(self, request_id: int) -> ServiceRequest | None:
        row = await self.session.get(ServiceRequestRow, request_id, populate_existing=True)
        return _request(row) if row is not None else None

    async def requests_of_member(self, member_id: int) -> list[ServiceRequest]:
        found = await self.session.scalars(
            select(ServiceRequestRow)
            .where(col(ServiceRequestRow.member_id) == member_id)
            .order_by(col(ServiceRequestRow.id))
        )
        return [_request(row) for row in found]

    async def count_open(self, community_id: int) -> int:
        return int(
            await self.session.scalar(select(func.count()).where(*_open_of(community_id))) or 0
        )

    async def open_requests(
        self, community_id: int, offset: int, limit: int
    ) -> list[ServiceRequestLine]:
        """Open requests, oldest first, with the member's names and car model."""
        request, member, car = ServiceRequestRow, tables.Member, CarProfileRow
        result = await self.session.execute(
            select(request, col(member.first_name), col(member.username), col(car.model))
            .join(member, col(member.id) == col(request.member_id))
            .outerjoin(
                car,
                and_(
                    col(car.community_id) == col(request.community_id),
                    col(car.member_id) == col(request.member_id),
                ),
            )
            .where(*_open_of(community_id))
            .order_by(col(request.requested_at), col(request.id))
            .offset(offset)
            .limit(limit)
        )
        return [
            ServiceRequestLine(_request(row[0]), row[1], row[2], row[3]) for row in result.all()
        ]

    async def settle_request(self, request_id: int, actor_id: int, now: datetime) -> bool:
        """Mark an open request done; False when it was done already."""
        row = ServiceRequestRow
        result = await self.session.execute(
            update(row)
            .where(col(row.id) == request_id, col(row.done_at).is_(None))
            .values(done_at=now, done_by=actor_id)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def delete_requests(self, member_id: int) -> int:
        """Erase the member's service requests (``/forget_me``)."""
        result = await self.session.execute(
            delete(ServiceRequestRow).where(col(ServiceRequestRow.member_id) == member_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _open_of(community_id: int) -> tuple[Any, ...]:
    return (
        col(ServiceRequestRow.community_id) == community_id,
        col(ServiceRequestRow.done_at).is_(None),
    )


def _values(profile: CarProfile) -> dict[str, Any]:
    mileage, previous = profile.mileage, profile.previous_mileage
    return {
        "model": profile.model,
        "year": profile.year,
        "purchased_on": profile.purchased_on,
        "mileage_km": mileage.km if mileage else None,
        "mileage_on": mileage.on if mileage else None,
        "previous_km": previous.km if previous else None,
        "previous_on": previous.on if previous else None,
        "serviced_on": profile.serviced_on,
        "service_km": profile.service_km,
        "reminders_on": profile.reminders_on,
        "snoozes": profile.snoozes,
        "snoozed_until": profile.snoozed_until,
        "reminded_due": profile.reminded_due,
        "reminded_round": profile.reminded_round,
        "owner_years": profile.owner_years,
    }


def _reading(km: int | None, on: date | None) -> Reading | None:
    return Reading(km, on) if km is not None and on is not None else None


def _profile(row: CarProfileRow) -> CarProfile:
    return CarProfile(
        community_id=row.community_id,
        member_id=row.member_id,
        model=row.model,
        year=row.year,
        purchased_on=row.purchased_on,
        mileage=_reading(row.mileage_km, row.mileage_on),
        previous_mileage=_reading(row.previous_km, row.previous_on),
        serviced_on=row.serviced_on,
        service_km=row.service_km,
        reminders_on=row.reminders_on,
        snoozes=row.snoozes,
        snoozed_until=row.snoozed_until,
        reminded_due=row.reminded_due,
        reminded_round=row.reminded_round,
        owner_years=row.owner_years,
    )


def _request(row: ServiceRequestRow) -> ServiceRequest:
    assert row.id is not None
    return ServiceRequest(
        id=row.id,
        community_id=row.community_id,
        member_id=row.member_id,
        due_on=row.due_on,
        requested_at=row.requested_at,
        done_at=row.done_at,
    )
