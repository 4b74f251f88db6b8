"""The write-behind buffer: batched, ordered, nothing lost on a clean shutdown or a failure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlmodel import SQLModel

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.members import Person
from hearth.simulate.clock import VirtualClock
from hearth.storage import tables
from hearth.storage.activity_buffer import ActivityBuffer
from hearth.storage.engine import create_engine, unit_of_work_factory
from hearth.storage.unit_of_work import UnitOfWorkFactory

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROUP = -1001000000001


def record(member_id: int, update_id: int) -> ActivityRecord:
    return ActivityRecord(
        community_id=GROUP,
        member_id=member_id,
        kind=ActivityKind.MESSAGE,
        occurred_at=AT + timedelta(seconds=update_id),
        local_day=AT.date(),
        update_id=update_id,
    )


async def with_community(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="UTC", locale="en", now=AT)
        await uow.commit()


async def count(uow_factory: UnitOfWorkFactory, table: type[SQLModel]) -> int:
    async with uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(table)) or 0)


async def test_new_members_are_written_before_their_activity_in_one_batch(
    uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    await with_community(uow_factory)
    buffer = ActivityBuffer(uow_factory, clock, max_rows=1000, max_delay=60)
    for member_id in (1, 2, 3):
        buffer.register(GROUP, Person(member_id, f"Member {member_id}"), AT)
        buffer.add([record(member_id, member_id)], update_id=member_id)

    assert await count(uow_factory, tables.Activity) == 0  # nothing written yet
    await buffer.stop()  # a clean shutdown drains the buffer

    assert await count(uow_factory, tables.Member) == 3
    assert await count(uow_factory, tables.Membership) == 3
    assert await count(uow_factory, tables.Activity) == 3
    assert await count(uow_factory, tables.ProcessedUpdate) == 3


async def test_the_background_writer_flushes_within_its_delay(
    uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    await with_community(uow_factory)
    buffer = ActivityBuffer(uow_factory, clock, max_rows=1000, max_delay=0.05)
    await buffer.start()
    buffer.register(GROUP, Person(1, "Li"), AT)
    buffer.add([record(1, 1)], update_id=1)
    for _ in range(100):
        if buffer.written:
            break
        await asyncio.sleep(0.02)
    await buffer.stop()
    assert await count(uow_factory, tables.Activity) == 1


async def test_a_failed_write_keeps_the_rows_for_the_next_attempt(
    uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    # No community row yet: the foreign key makes the first write fail.
    buffer = ActivityBuffer(uow_factory, clock, max_rows=1000, max_delay=60)
    buffer.register(GROUP, Person(1, "Li"), AT)
    buffer.add([record(1, 1), record(1, 2)], update_id=1)
    try:
        await buffer.flush()
    except Exception:
        pass
    else:  # pragma: no cover - the write must fail without its community
        raise AssertionError("the write should have failed")
    assert buffer.pending == 3
    assert buffer.has_registrations

    await with_community(uow_factory)
    await buffer.flush()
    assert await count(uow_factory, tables.Activity) == 2
    assert buffer.pending == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=st.lists(
        st.lists(st.tuples(st.integers(1, 5), st.integers(1, 40)), max_size=12), max_size=6
    )
)
def test_whatever_is_added_and_replayed_is_stored_exactly_once(
    batches: list[list[tuple[int, int]]],
) -> None:
    """Batches of (member, update id) — with replays — end up as one row per distinct pair."""

    async def scenario() -> tuple[int, int]:
        engine = create_engine("sqlite+aiosqlite:///:memory:")
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)
        factory = unit_of_work_factory(engine)
        await with_community(factory)
        buffer = ActivityBuffer(factory, VirtualClock(AT), max_rows=7, max_delay=60)
        for batch in batches:
            for member_id, update_id in batch:
                buffer.register(GROUP, Person(member_id, "M"), AT)
                buffer.add([record(member_id, update_id)], update_id=update_id)
                if buffer.full:
                    await buffer.flush()
        await buffer.stop()
        stored = await count(factory, tables.Activity)
        processed = await count(factory, tables.ProcessedUpdate)
        await engine.dispose()
        return stored, processed

    stored, processed = asyncio.run(scenario())
    pairs = {pair for batch in batches for pair in batch}
    assert stored == len(pairs)
    assert processed == len({update_id for _, update_id in pairs})
