"""Greetings: opt-in only, at a civil local hour, once a year each, only to who can read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hearth.bot.announcer import OutboxGreeter
from hearth.bot.notifier import OutboxWriter
from hearth.domain.greetings import Birthday
from hearth.domain.members import ChatRole, JoinVia, Person
from hearth.i18n import build_i18n
from hearth.scheduler import jobs
from hearth.services import greetings
from hearth.simulate.clock import VirtualClock
from hearth.storage.engine import unit_of_work_factory
from hearth.storage.outbox import OutboxRow
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP = -1001000000001
ALICE, BORIS, CAROL, DAVE = 101, 102, 103, 104
JOINED = datetime(2025, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, a year ago
# 2 March 2026 in Shanghai: 09:00, 10:00 and 21:00 local.
NINE, TEN, NINE_PM = (datetime(2026, 3, 2, hour, 0, tzinfo=UTC) for hour in (1, 2, 13))


def greeter(clock: VirtualClock) -> OutboxGreeter:
    return OutboxGreeter(OutboxWriter(build_i18n("en"), clock))


async def club(uow_factory: UnitOfWorkFactory) -> None:
    """Everyone joined a year ago today. Alice opted in; Boris did not; Carol opted in but
    never started the bot; Dave opted in, was already there when Hearth came, and told his
    birthday (today), in Chinese."""
    async with uow_factory() as uow:
        await uow.communities.add(
            GROUP, "Owners", timezone="Asia/Shanghai", locale="en", now=JOINED
        )
        for member_id in (ALICE, BORIS, CAROL, DAVE):
            await uow.members.upsert(
                Person(
                    member_id,
                    f"M{member_id}",
                    language_code="zh-hans" if member_id == DAVE else None,
                ),
                JOINED,
            )
            via = JoinVia.SEEN if member_id == DAVE else JoinVia.JOIN
            await uow.memberships.add(GROUP, member_id, role=ChatRole.MEMBER, now=JOINED, via=via)
            if member_id != CAROL:
                await uow.members.update(member_id, started_bot=True)
        for member_id in (ALICE, CAROL, DAVE):
            await greetings.set_greetings(uow, member_id=member_id, enabled=True, now=JOINED)
        await greetings.set_birthday(uow, member_id=DAVE, birthday=Birthday(3, 2), now=JOINED)
        await uow.commit()


async def queued(engine: AsyncEngine) -> dict[int, list[str]]:
    async with unit_of_work_factory(engine)() as uow:
        rows = list(await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        uow.session.expunge_all()
    found: dict[int, list[str]] = {}
    for row in rows:
        assert row.kind == "greeting"
        found.setdefault(row.chat_id, []).append(json.loads(row.payload)["text"])
    return found


async def test_opted_in_members_are_greeted_once_at_a_civil_hour(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    await club(uow_factory)
    assert (
        await jobs.send_greetings(uow_factory, greeter(VirtualClock(NINE)), VirtualClock(NINE)) == 0
    )
    clock = VirtualClock(TEN)
    assert await jobs.send_greetings(uow_factory, greeter(clock), clock) == 2
    later = VirtualClock(TEN + 3 * timedelta(hours=1))
    assert await jobs.send_greetings(uow_factory, greeter(later), later) == 0  # not twice
    assert await jobs.send_greetings(uow_factory, greeter(clock), clock) == 0  # a rerun

    sent = await queued(engine)
    assert set(sent) == {ALICE, DAVE}  # Boris did not opt in; Carol cannot be written to
    assert sent[ALICE] == [
        "🎉 M101, today is your 1-year anniversary in Owners. Thank you for being part of it!"
    ]
    # Dave's join date is unknown (he was there before Hearth): only his birthday.
    [dave] = sent[DAVE]
    assert dave.startswith("🎂")
    assert "M104" in dave


async def test_no_greeting_late_at_night_and_again_the_next_year(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    await club(uow_factory)
    night = VirtualClock(NINE_PM)
    assert await jobs.send_greetings(uow_factory, greeter(night), night) == 0
    next_year = VirtualClock(TEN.replace(year=2027))
    assert await jobs.send_greetings(uow_factory, greeter(next_year), next_year) == 2
    sent = await queued(engine)
    assert "2-year anniversary" in sent[ALICE][0]


async def test_opting_out_and_blocking_the_bot_stop_greetings(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    await club(uow_factory)
    async with uow_factory() as uow:
        await greetings.set_greetings(uow, member_id=ALICE, enabled=False, now=TEN)
        await uow.members.update(DAVE, reachable=False)
        await uow.commit()
    clock = VirtualClock(TEN)
    assert await jobs.send_greetings(uow_factory, greeter(clock), clock) == 0
    assert await queued(engine) == {}
