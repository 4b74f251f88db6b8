"""/mydata: what Hearth holds about a member, gathered for them to read and to keep.

The member's names and languages, whether the bot may write to them, their birthday and
greeting wish, their nudge choice, and in each community they belong to: membership, stage,
tags (questionnaire answers among them), points, streak, their car, their service
requests, the dealer's or partner's channel that brought them and the service visits and
purchases the business reported; the phone number they shared. ``document`` is the same
as JSON-safe values, for the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hearth.domain.cars import CarProfile, ServiceRequest
from hearth.domain.conversions import Conversion
from hearth.domain.greetings import Birthday
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.domain.nudges import NudgePreference
from hearth.domain.segments import MemberRecord
from hearth.services import cars, channels
from hearth.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class CommunityData:
    """What one community holds about the member."""

    community: CommunityProfile
    record: MemberRecord | None
    car: CarProfile | None
    requests: list[ServiceRequest]
    channel: str | None = None  # the dealer's or partner's channel that brought them
    conversions: list[Conversion] = field(default_factory=list)  # the business reported


@dataclass(frozen=True, slots=True)
class MyData:
    member: MemberProfile
    first_name: str
    last_name: str | None
    username: str | None
    birthday: Birthday | None
    greetings: bool
    nudges: NudgePreference
    communities: list[CommunityData]
    phone: str | None = None  # the number they shared (/phone)


async def gather(uow: UnitOfWork, member: MemberProfile) -> MyData:
    """Everything about ``member`` across the communities they belong to."""
    owned = await cars.of_member(uow, member.id)
    brought_by = await channels.brought_by(uow, member.id)
    conversions = await uow.conversions.of_member(member.id)
    found: list[CommunityData] = []
    for community in await uow.memberships.communities_of(member.id):
        record = await uow.member_cards.record(community.id, member.id)
        car = next((each for each in owned.profiles if each.community_id == community.id), None)
        requests = [each for each in owned.requests if each.community_id == community.id]
        channel = brought_by.get(community.id)
        reported = [each for each in conversions if each.community_id == community.id]
        found.append(
            CommunityData(
                community, record, car, requests, channel.name if channel else None, reported
            )
        )
    names = next((each.record for each in found if each.record is not None), None)
    return MyData(
        member=member,
        first_name=names.first_name if names else member.first_name,
        last_name=names.last_name if names else None,
        username=names.username if names else None,
        birthday=await uow.greetings.birthday(member.id),
        greetings=await uow.greetings.greetings_on(member.id),
        nudges=await uow.nudges.preference(member.id),
        communities=found,
        phone=await uow.member_contacts.phone_of(member.id),
    )


def document(data: MyData) -> dict[str, Any]:
    """The member's data as JSON-safe values (days ISO, times ISO in UTC)."""
    member = data.member
    return {
        "member": {
            "id": member.id,
            "first_name": data.first_name,
            "last_name": data.last_name,
            "username": data.username,
            "language_chosen": member.locale,
            "telegram_language": member.language_code,
            "started_the_bot": member.started_bot,
            "reachable": member.reachable,
            "birthday": data.birthday.spec() if data.birthday else None,
            "greetings": data.greetings,
            "phone": data.phone,
            "nudges": {
                "enabled": data.nudges.enabled,
                "quiet_hours": data.nudges.quiet.label,
            },
        },
        "communities": [_community(each) for each in data.communities],
    }


def _community(each: CommunityData) -> dict[str, Any]:
    record = each.record
    found: dict[str, Any] = {"id": each.community.id, "title": each.community.title}
    if record is not None:
        standing = record.standing
        found |= {
            "joined_at": record.joined_at.isoformat(),
            "left_at": record.left_at.isoformat() if record.left_at else None,
            "tier": record.tier,
            "stage": standing.stage.value if standing else None,
            "tags": list(record.tags),
            "points": record.balance,
            "best_streak": record.streak.best if record.streak else 0,
            "last_active_on": record.last_active_on.isoformat() if record.last_active_on else None,
        }
    found["brought_by_channel"] = each.channel
    found["car"] = car_document(each.car)
    found["service_requests"] = [
        {
            "due_on": request.due_on.isoformat(),
            "requested_at": request.requested_at.isoformat(),
            "done_at": request.done_at.isoformat() if request.done_at else None,
        }
        for request in each.requests
    ]
    found["conversions"] = [
        {
            "kind": conversion.kind.value,
            "date": conversion.occurred_on.isoformat(),
            "amount": conversion.amount_minor / 100,
        }
        for conversion in each.conversions
    ]
    return found


def car_document(car: CarProfile | None) -> dict[str, Any] | None:
    """A car profile as JSON-safe values (None when the member told nothing)."""
    if car is None:
        return None

    def day(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "model": car.model,
        "year": car.year,
        "purchased_on": day(car.purchased_on),
        "mileage_km": car.mileage.km if car.mileage else None,
        "mileage_entered_on": day(car.mileage.on if car.mileage else None),
        "previous_mileage_km": car.previous_mileage.km if car.previous_mileage else None,
        "previous_mileage_entered_on": day(
            car.previous_mileage.on if car.previous_mileage else None
        ),
        "last_service_on": day(car.serviced_on),
        "last_service_km": car.service_km,
        "maintenance_reminders": car.reminders_on,
        "snoozed_until": day(car.snoozed_until),
        "last_reminded_due_on": day(car.reminded_due),
    }
