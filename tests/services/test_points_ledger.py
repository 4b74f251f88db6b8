"""The ledger is exact: whatever is earned, spent, expired or replayed, the sums agree."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from hearth.domain.members import Person
from hearth.domain.points import EntryKind, NotEnoughPoints, PointsRules
from hearth.services import points
from hearth.storage.engine import create_engine, unit_of_work_factory
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP, MEMBER = -1001000000001, 1
START = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
RULES = PointsRules(expiry_months=1)  # short lots, so that expiry happens often


async def setup(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="UTC", locale="en", now=START)
        await uow.members.upsert(Person(MEMBER, "Li"), START)
        await uow.commit()


async def earn(uow_factory: UnitOfWorkFactory, amount: int, key: str, now: datetime) -> bool:
    async with uow_factory() as uow:
        done = await points.credit(
            uow,
            community_id=GROUP,
            member_id=MEMBER,
            amount=amount,
            kind=EntryKind.EARN,
            reason="test",
            key=key,
            now=now,
            timezone="UTC",
            rules=RULES,
        )
        await uow.commit()
        return done


async def spend(uow_factory: UnitOfWorkFactory, amount: int, key: str, now: datetime) -> bool:
    async with uow_factory() as uow:
        try:
            done = await points.debit(
                uow,
                community_id=GROUP,
                member_id=MEMBER,
                amount=amount,
                kind=EntryKind.SPEND,
                reason="test",
                key=key,
                now=now,
            )
        except NotEnoughPoints:
            return False  # leaving without commit rolls the attempt back
        await uow.commit()
        return done


async def sums(uow_factory: UnitOfWorkFactory, now: datetime) -> tuple[int, int, int]:
    async with uow_factory() as uow:
        balance = await uow.points.balance(GROUP, MEMBER)
        ledger = await uow.points.ledger_sum(GROUP, MEMBER)
        live = sum(lot.remaining for lot in await uow.points.lots(GROUP, MEMBER))
    return balance, ledger, live


operation = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 50), st.integers(0, 6)),
    st.tuples(st.just("spend"), st.integers(1, 80), st.integers(0, 6)),
    st.tuples(st.just("wait"), st.integers(1, 40), st.just(0)),
    st.tuples(st.just("expire"), st.just(0), st.just(0)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, max_size=25))
def test_any_sequence_keeps_balance_equal_to_the_ledger_and_the_live_lots(
    operations: list[tuple[str, int, int]],
) -> None:
    async def scenario() -> None:
        engine = create_engine("sqlite+aiosqlite:///:memory:")
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)
        factory = unit_of_work_factory(engine)
        await setup(factory)
        now = START
        for kind, amount, key in operations:
            if kind == "earn":  # keys repeat: a repeated key is a replay and changes nothing
                await earn(factory, amount, f"earn:{key}", now)
            elif kind == "spend":
                await spend(factory, amount, f"spend:{key}", now)
            elif kind == "wait":
                now += timedelta(days=amount)
            else:
                async with factory() as uow:
                    await points.expire_due(uow, now)
                    await uow.commit()
            balance, ledger, live = await sums(factory, now)
            assert balance == ledger >= 0
            # Lots past their date still count until the expiry job (or a debit) removes them.
            assert live == balance
        await engine.dispose()

    asyncio.run(scenario())


async def test_spending_takes_the_lot_that_expires_first(uow_factory: UnitOfWorkFactory):
    await setup(uow_factory)
    await earn(uow_factory, 30, "old", START)
    await earn(uow_factory, 50, "new", START + timedelta(days=40))
    assert await spend(uow_factory, 40, "redeem", START + timedelta(days=41))
    async with uow_factory() as uow:
        lots = await uow.points.lots(GROUP, MEMBER)
    assert [lot.remaining for lot in lots] == [40]  # the old lot is used up, 10 taken from new


async def test_expired_points_cannot_be_spent_and_are_written_off(uow_factory: UnitOfWorkFactory):
    await setup(uow_factory)
    await earn(uow_factory, 30, "old", START)  # expires at the end of February
    later = datetime(2026, 3, 1, 0, 0, 1, tzinfo=UTC)
    assert not await spend(uow_factory, 10, "too late", later)
    async with uow_factory() as uow:
        assert await points.expire_due(uow, later) == 30
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.points.balance(GROUP, MEMBER) == 0
        [line] = [line for line in await uow.points.recent(GROUP, MEMBER, 10) if line.amount < 0]
    assert line.kind is EntryKind.EXPIRE
    assert line.amount == -30


async def test_a_debit_larger_than_the_balance_is_refused_and_changes_nothing(
    uow_factory: UnitOfWorkFactory,
):
    await setup(uow_factory)
    await earn(uow_factory, 30, "a", START)
    async with uow_factory() as uow:
        with pytest.raises(NotEnoughPoints):
            await points.debit(
                uow,
                community_id=GROUP,
                member_id=MEMBER,
                amount=31,
                kind=EntryKind.DEDUCT,
                reason="x",
                key="too-much",
                now=START,
            )
    assert await sums(uow_factory, START) == (30, 30, 30)
