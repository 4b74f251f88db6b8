"""Repositories and the unit of work, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.members import ChatRole, JoinVia, Person
from hearth.storage import tables
from hearth.storage.unit_of_work import UnitOfWorkFactory

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROUP = -1001000000001


async def seed(uow_factory: UnitOfWorkFactory, *people: Person) -> None:
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="Asia/Shanghai", locale="en", now=AT)
        for person in people:
            await uow.members.upsert(person, AT)
            await uow.memberships.add(GROUP, person.id, role=ChatRole.MEMBER, now=AT)
        await uow.commit()


def record(member_id: int, update_id: int | None, at: datetime = AT) -> ActivityRecord:
    return ActivityRecord(
        community_id=GROUP,
        member_id=member_id,
        kind=ActivityKind.MESSAGE,
        occurred_at=at,
        local_day=at.date(),
        update_id=update_id,
    )


async def test_a_member_seen_again_gets_new_names_but_keeps_having_started_the_bot(
    uow_factory: UnitOfWorkFactory,
):
    await seed(uow_factory, Person(1, "Li"))
    async with uow_factory() as uow:
        await uow.members.update(1, started_bot=True, locale="zh_Hans")
        await uow.members.upsert(Person(1, "Li", "Wei", language_code="en"), AT)
        await uow.commit()
    async with uow_factory() as uow:
        member = await uow.members.get(1)
    assert member is not None
    assert (member.started_bot, member.locale, member.language_code) == (True, "zh_Hans", "en")


async def test_adding_a_membership_twice_keeps_one(uow_factory: UnitOfWorkFactory):
    await seed(uow_factory, Person(1, "Li"))
    async with uow_factory() as uow:
        again = await uow.memberships.add(GROUP, 1, role=ChatRole.MEMBER, now=AT, via=JoinVia.SEEN)
        await uow.commit()
        count = await uow.session.scalar(select(func.count()).select_from(tables.Membership))
    assert again is False
    assert count == 1


async def test_leaving_and_rejoining_counts_the_joins(uow_factory: UnitOfWorkFactory):
    await seed(uow_factory, Person(1, "Li"))
    async with uow_factory() as uow:
        await uow.memberships.leave(GROUP, 1, AT + timedelta(days=1))
        await uow.memberships.rejoin(GROUP, 1, AT + timedelta(days=2))
        await uow.commit()
    async with uow_factory() as uow:
        view = await uow.memberships.get(GROUP, 1)
    assert view is not None
    assert view.left_at is None
    assert view.join_count == 2
    assert view.joined_at == AT + timedelta(days=2)


async def test_replaying_the_activity_of_an_update_stores_it_once(uow_factory: UnitOfWorkFactory):
    await seed(uow_factory, Person(1, "Li"))
    for _ in range(2):
        async with uow_factory() as uow:
            await uow.activity.add_many([record(1, update_id=77), record(1, update_id=78)])
            await uow.commit()
    async with uow_factory() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(tables.Activity))
    assert count == 2


async def test_daily_active_members_are_distinct_members_per_local_day(
    uow_factory: UnitOfWorkFactory,
):
    await seed(uow_factory, Person(1, "Li"), Person(2, "Wang"))
    day_two = AT + timedelta(days=1)
    async with uow_factory() as uow:
        await uow.activity.add_many(
            [record(1, 1), record(1, 2), record(2, 3), record(1, 4, at=day_two)]
        )
        await uow.commit()
        per_day = await uow.activity.daily_members(
            GROUP, date(2026, 3, 1), date(2026, 3, 4), [ActivityKind.MESSAGE]
        )
        period = await uow.activity.distinct_members(
            GROUP, date(2026, 3, 1), date(2026, 3, 4), [ActivityKind.MESSAGE]
        )
    assert per_day == {date(2026, 3, 2): 2, date(2026, 3, 3): 1}
    assert period == 2


async def test_work_without_commit_is_discarded_and_after_commit_callbacks_do_not_run(
    uow_factory: UnitOfWorkFactory,
):
    ran: list[str] = []
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="UTC", locale="en", now=AT)
        uow.on_commit(lambda: ran.append("committed"))
    async with uow_factory() as uow:
        assert await uow.communities.get(GROUP) is None
    assert ran == []


async def test_times_come_back_as_the_same_utc_instant(uow_factory: UnitOfWorkFactory):
    shanghai_evening = datetime(2026, 3, 2, 23, 30, tzinfo=UTC).astimezone()
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="UTC", locale="en", now=AT)
        await uow.members.upsert(Person(1, "Li"), shanghai_evening)
        await uow.commit()
        row = await uow.session.get(tables.Member, 1)
        assert row is not None
        assert row.created_at == shanghai_evening
        assert row.created_at.tzinfo is UTC


async def test_naive_datetimes_never_reach_the_database(uow_factory: UnitOfWorkFactory):
    async with uow_factory() as uow:
        with pytest.raises(Exception, match="naive datetime"):
            await uow.communities.add(
                GROUP, "Owners", timezone="UTC", locale="en", now=datetime(2026, 3, 2)
            )
