"""Points for the conversation: cooldown, daily cap, substance, replays, the local day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.calendar import local_day
from hearth.domain.members import ChatRole, CommunityProfile, Person
from hearth.domain.points import PointsRules, message_credit_times
from hearth.services.activity_points import credit_messages
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP, ALICE = -1001000000001, 101
NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def test_one_message_per_cooldown_earns_up_to_the_daily_cap():
    rules = PointsRules(message_cooldown_seconds=60, message_daily_cap=3)
    times = [NOON + timedelta(seconds=s) for s in (0, 30, 59, 61, 200, 400, 600)]
    assert message_credit_times(times, earlier_today=[], rules=rules) == [
        NOON,
        NOON + timedelta(seconds=61),
        NOON + timedelta(seconds=200),
    ]


def test_credits_already_earned_today_count_against_cooldown_and_cap():
    rules = PointsRules(message_cooldown_seconds=60, message_daily_cap=2)
    earlier = [NOON - timedelta(seconds=30)]
    times = [NOON, NOON + timedelta(seconds=40), NOON + timedelta(seconds=500)]
    assert message_credit_times(times, earlier_today=earlier, rules=rules) == [
        NOON + timedelta(seconds=40)
    ]


async def setup(uow_factory: UnitOfWorkFactory) -> CommunityProfile:
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="Asia/Shanghai", locale="en", now=NOON)
        await uow.members.upsert(Person(ALICE, "Alice"), NOON)
        await uow.memberships.add(GROUP, ALICE, role=ChatRole.MEMBER, now=NOON)
        await uow.commit()
        community = await uow.communities.get(GROUP)
    assert community is not None
    return community


def message(update_id: int, at: datetime, *, earns: bool = True) -> ActivityRecord:
    return ActivityRecord(
        community_id=GROUP,
        member_id=ALICE,
        kind=ActivityKind.MESSAGE,
        occurred_at=at,
        local_day=local_day(at, "Asia/Shanghai"),
        update_id=update_id,
        earns_points=earns,
    )


async def credit(
    uow_factory: UnitOfWorkFactory, community: CommunityProfile, batch: list[ActivityRecord]
) -> int:
    async def community_of(_: int) -> CommunityProfile:
        return community

    async with uow_factory() as uow:
        await uow.activity.add_many(batch)
        credited = await credit_messages(uow, batch, community_of, NOON)
        await uow.commit()
        return credited


async def balance(uow_factory: UnitOfWorkFactory) -> tuple[int, int]:
    async with uow_factory() as uow:
        return await uow.points.balance(GROUP, ALICE), await uow.points.ledger_sum(GROUP, ALICE)


async def test_a_burst_of_chatter_earns_one_point_and_one_word_replies_nothing(
    uow_factory: UnitOfWorkFactory,
):
    community = await setup(uow_factory)
    burst = [message(n, NOON + timedelta(seconds=n)) for n in range(1, 11)]
    burst.append(message(99, NOON + timedelta(minutes=5), earns=False))  # "ok"
    assert await credit(uow_factory, community, burst) == 1
    assert await balance(uow_factory) == (1, 1)


async def test_a_replayed_batch_earns_nothing_more(uow_factory: UnitOfWorkFactory):
    community = await setup(uow_factory)
    batch = [message(n, NOON + timedelta(minutes=2 * n)) for n in range(1, 6)]
    assert await credit(uow_factory, community, batch) == 5
    assert await credit(uow_factory, community, batch) == 0
    assert await balance(uow_factory) == (5, 5)


async def test_the_daily_cap_holds_across_batches_and_resets_at_local_midnight(
    uow_factory: UnitOfWorkFactory,
):
    community = await setup(uow_factory)
    day = [message(n, NOON + timedelta(minutes=2 * n)) for n in range(1, 16)]
    more = [message(100 + n, NOON + timedelta(hours=3, minutes=2 * n)) for n in range(1, 16)]
    assert await credit(uow_factory, community, day) == 15
    assert await credit(uow_factory, community, more) == 5  # cap 20 a day
    # 00:30 the next day in Shanghai is 16:30 UTC the same calendar day.
    next_local_day = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    assert local_day(next_local_day, "Asia/Shanghai") == date(2026, 3, 3)
    assert await credit(uow_factory, community, [message(500, next_local_day)]) == 1
    assert await balance(uow_factory) == (21, 21)
