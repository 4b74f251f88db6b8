"""Greetings: a member's join anniversary and birthday, in private, opt-in, once a year each.

The job looks every hour; a community is greeted from its first greeting hour (10:00
local) until the evening, so that a bot that was down at ten still greets that day.
Each greeting's outbox dedupe key carries the year: running again greets nobody twice.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hearth.domain.calendar import local_day
from hearth.domain.greetings import Birthday, greeting_key, is_greeting_hour, occasions_on
from hearth.domain.members import CommunityProfile
from hearth.services.ports import Greeter, UnitOfWork, UnitOfWorkFactory


async def send_greetings(uow_factory: UnitOfWorkFactory, greeter: Greeter, now: datetime) -> int:
    """Queue the greetings due today in every community where it is a greeting hour.

    Returns how many were queued.
    """
    async with uow_factory() as uow:
        communities = await uow.communities.active()
    queued = 0
    for community in communities:
        local = now.astimezone(ZoneInfo(community.timezone))
        if not is_greeting_hour(local.hour):
            continue
        today = local.date()
        async with uow_factory() as uow:
            for candidate in await uow.greetings.candidates(community.id):
                joined_on = (
                    local_day(candidate.joined_at, community.timezone)
                    if candidate.joined_at is not None
                    else None
                )
                for greeting in occasions_on(
                    today, joined_on=joined_on, birthday=candidate.birthday
                ):
                    key = greeting_key(
                        greeting.occasion, community.id, candidate.member.id, today.year
                    )
                    queued += await greeter.greet(uow, key, candidate.member, community, greeting)
            await uow.commit()
    return queued


async def set_greetings(
    uow: UnitOfWork, *, member_id: int, enabled: bool, now: datetime
) -> list[CommunityProfile]:
    """Opt in to (or out of) greetings in every community of the member."""
    communities = await uow.memberships.communities_of(member_id)
    await uow.greetings.set_greetings(member_id, [c.id for c in communities], enabled, now)
    return communities


async def set_birthday(
    uow: UnitOfWork, *, member_id: int, birthday: Birthday | None, now: datetime
) -> bool:
    """Remember (or forget) a member's birthday; whether greetings are on for them."""
    await uow.greetings.set_birthday(member_id, birthday, now)
    return await uow.greetings.greetings_on(member_id)


async def birthday_of(uow: UnitOfWork, member_id: int) -> Birthday | None:
    return await uow.greetings.birthday(member_id)
