"""The outbox repository on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hearth.bot.notifier import edit, message
from hearth.domain.delivery import SENDING_LEASE, OutboxStatus, OutgoingMessage, Priority
from hearth.storage.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANN, BOB, GROUP = 501, 502, -100500


async def add(uow_factory: UnitOfWorkFactory, *messages: OutgoingMessage) -> list[bool]:
    results = []
    async with uow_factory() as uow:
        for item in messages:
            results.append(await uow.outbox.add(item, NOW))
        await uow.commit()
    return results


async def test_a_dedupe_key_is_queued_once(uow_factory: UnitOfWorkFactory):
    first = message("k:1", ANN, "hello", kind="test")
    again = message("k:1", ANN, "hello again", kind="test")
    assert await add(uow_factory, first) == [True]
    assert await add(uow_factory, again) == [False]
    async with uow_factory() as uow:
        due = await uow.outbox.due(NOW, limit=10)
    assert [(m.dedupe_key, m.payload["text"]) for m in due] == [("k:1", "hello")]


async def test_due_messages_come_most_urgent_first_and_not_before_their_time(
    uow_factory: UnitOfWorkFactory,
):
    await add(
        uow_factory,
        message("b:1", ANN, "news", kind="announcement"),
        message("b:2", BOB, "news", kind="announcement"),
        message("later", ANN, "soon", kind="t", not_before=NOW + timedelta(minutes=5)),
        message("r:1", BOB, "remember", kind="checkin_reminder", priority=Priority.REMINDER),
        message("reply:1", ANN, "answer", kind="reply", priority=Priority.REPLY),
    )
    async with uow_factory() as uow:
        next_at = await uow.outbox.next_due_at()
        now_due = [m.dedupe_key for m in await uow.outbox.due(NOW, limit=10)]
        later_due = [m.dedupe_key for m in await uow.outbox.due(NOW + timedelta(minutes=5), 10)]
    assert next_at == NOW
    assert now_due == ["reply:1", "r:1", "b:1", "b:2"]
    assert later_due[-1] == "later"


async def test_a_leased_batch_is_skipped_by_other_workers_until_released_or_run_out(
    uow_factory: UnitOfWorkFactory,
):
    await add(
        uow_factory,
        message("a", ANN, "one", kind="t"),
        message("b", BOB, "two", kind="t"),
        message("c", GROUP, "three", kind="t"),
    )
    async with uow_factory() as uow:  # worker 1 takes two
        first = await uow.outbox.due(NOW, 2, lease=timedelta(seconds=60))
        await uow.commit()
    async with uow_factory() as uow:  # worker 2 gets only the third
        second = await uow.outbox.due(NOW, 10, lease=timedelta(seconds=60))
        await uow.commit()
    assert [m.dedupe_key for m in first] == ["a", "b"]
    assert [m.dedupe_key for m in second] == ["c"]
    async with uow_factory() as uow:
        assert await uow.outbox.due(NOW + timedelta(seconds=30), 10) == []
        assert await uow.outbox.next_due_at() == NOW + timedelta(seconds=60)
        await uow.outbox.release([first[1].id])  # worker 1 could not start "b": given back
        await uow.commit()
    async with uow_factory() as uow:
        assert [m.dedupe_key for m in await uow.outbox.due(NOW, 10)] == ["b"]
        await uow.commit()
    async with uow_factory() as uow:  # worker 1 died: its lease runs out, "a" is due again
        again = await uow.outbox.due(NOW + timedelta(seconds=61), 10)
    assert [m.dedupe_key for m in again] == ["a", "b", "c"]


async def test_only_one_claim_of_a_message_wins_and_the_outcome_is_recorded(
    uow_factory: UnitOfWorkFactory,
):
    await add(uow_factory, message("k", ANN, "hi", kind="t"))
    async with uow_factory() as uow:
        (queued,) = await uow.outbox.due(NOW, 10)
        assert await uow.outbox.claim(queued.id, NOW)
        assert not await uow.outbox.claim(queued.id, NOW)  # already taken
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.due(NOW, 10) == []  # a claimed message is not due
        await uow.outbox.sent(queued.id, NOW, telegram_message_id=77)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.status_of("k") is OutboxStatus.SENT
        counts = await uow.outbox.counts()
    assert counts[OutboxStatus.SENT] == 1
    assert counts.oldest_queued is None


async def test_a_retry_requeues_with_attempts_counted(uow_factory: UnitOfWorkFactory):
    await add(uow_factory, message("k", ANN, "hi", kind="t"))
    async with uow_factory() as uow:
        (queued,) = await uow.outbox.due(NOW, 10)
        await uow.outbox.claim(queued.id, NOW)
        await uow.outbox.retry(queued.id, NOW + timedelta(seconds=4), "Bad Gateway")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.due(NOW, 10) == []
        (again,) = await uow.outbox.due(NOW + timedelta(seconds=4), 10)
    assert again.attempts == 1


async def test_a_blocked_chat_stops_its_queued_messages_only(uow_factory: UnitOfWorkFactory):
    await add(
        uow_factory,
        message("a:1", ANN, "one", kind="t"),
        message("a:2", ANN, "two", kind="t"),
        message("b:1", BOB, "one", kind="t"),
    )
    async with uow_factory() as uow:
        assert await uow.outbox.block_chat(ANN, "Forbidden: bot was blocked by the user") == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert [m.dedupe_key for m in await uow.outbox.due(NOW, 10)] == ["b:1"]
        counts = await uow.outbox.counts()
    assert counts[OutboxStatus.BLOCKED] == 2
    assert counts.recent_errors == (("t", "Forbidden: bot was blocked by the user", 2),)


async def test_only_messages_claimed_longer_ago_than_the_lease_are_interrupted(
    uow_factory: UnitOfWorkFactory,
):
    await add(
        uow_factory, message("old", ANN, "one", kind="t"), message("new", BOB, "two", kind="t")
    )
    async with uow_factory() as uow:
        old, new = await uow.outbox.due(NOW, 10)
        await uow.outbox.claim(old.id, NOW - SENDING_LEASE - timedelta(seconds=1))
        await uow.outbox.claim(new.id, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.interrupt_stale(NOW - SENDING_LEASE) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.status_of("old") is OutboxStatus.INTERRUPTED
        assert await uow.outbox.status_of("new") is OutboxStatus.SENDING


async def test_replacing_a_queued_edit_keeps_only_the_latest_text(
    uow_factory: UnitOfWorkFactory,
):
    async with uow_factory() as uow:
        await uow.outbox.replace_queued(edit("card", GROUP, 9, "3 going", kind="card"), NOW)
        await uow.outbox.replace_queued(edit("card", GROUP, 9, "4 going", kind="card"), NOW)
        await uow.commit()
    async with uow_factory() as uow:
        (queued,) = await uow.outbox.due(NOW, 10)
        await uow.outbox.claim(queued.id, NOW)
        await uow.commit()
    assert queued.payload == {"message_id": 9, "text": "4 going"}
    async with uow_factory() as uow:  # an edit in flight is not changed any more
        await uow.outbox.replace_queued(edit("card", GROUP, 9, "5 going", kind="card"), NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.due(NOW, 10) == []
        assert await uow.outbox.status_of("card") is OutboxStatus.SENDING
