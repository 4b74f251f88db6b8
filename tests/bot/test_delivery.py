"""The delivery engine against the local Bot API stand-in over real HTTP.

The worker sends what the outbox holds through a real aiogram ``Bot`` with its HTTP session;
the stand-in answers 429, 403, 400 and 5xx on demand. The send budget's windows are checked
on an event loop with a virtual clock, so that no test waits for real seconds or depends on
how fast the machine is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select

from hearth.bot.app import build_hearth
from hearth.bot.delivery import DeliveryWorker, SendBudget
from hearth.bot.notifier import OutboxWriter, PrivateNotifier, message
from hearth.domain.delivery import MAX_ATTEMPTS, Method, OutboxStatus, OutgoingMessage, Priority
from hearth.domain.members import ChatRole, Person
from hearth.i18n import build_i18n
from hearth.scheduler import jobs
from hearth.services.directory import Directory
from hearth.simulate.botapi import BotApiStandIn
from hearth.simulate.clock import VirtualClock
from hearth.storage.outbox import OutboxRow
from hearth.storage.unit_of_work import UnitOfWorkFactory
from tests.conftest import fresh_schema, make_settings
from tests.services.test_reminders import ALICE, GROUP, SHANGHAI_EIGHT_PM, community_with_alice
from tests.telegram import TOKEN

T = TypeVar("T")
ANN, BOB, CAROL = 901, 902, 903
FAST = {"per_second": 10_000, "per_private_chat_per_second": 10_000, "per_group_per_minute": 10_000}


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandIn]:
    async with BotApiStandIn(token=TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
async def telegram(api: BotApiStandIn) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
    yield bot
    await bot.session.close()


def worker_for(
    bot: Bot,
    uow_factory: UnitOfWorkFactory,
    clock: VirtualClock,
    *,
    budget: SendBudget | None = None,
    concurrency: int = 16,
) -> DeliveryWorker:
    return DeliveryWorker(
        bot,
        uow_factory,
        Directory(),
        budget or SendBudget(**FAST),
        clock,
        concurrency=concurrency,
    )


async def queue(
    uow_factory: UnitOfWorkFactory, clock: VirtualClock, *items: OutgoingMessage
) -> int:
    writer = OutboxWriter(build_i18n(), clock)
    new = 0
    async with uow_factory() as uow:
        for item in items:
            new += await writer.queue(uow, item)
        await uow.commit()
    return new


async def row(uow_factory: UnitOfWorkFactory, key: str) -> OutboxRow:
    async with uow_factory() as uow:
        found = await uow.session.scalar(select(OutboxRow).where(OutboxRow.dedupe_key == key))
        assert found is not None
        uow.session.expunge(found)  # a snapshot that outlives the transaction
    return found


def news(chat_id: int, key: str | None = None, **extra: Any) -> OutgoingMessage:
    return message(key or f"news:{chat_id}", chat_id, f"News for {chat_id}", kind="news", **extra)


def texts_to(api: BotApiStandIn, chat_id: int) -> list[str]:
    return [item["text"] for item in api.delivered_to(chat_id)]


# ------------------------------------------------------------------ outcomes of a send


async def test_a_message_queued_twice_under_one_key_is_sent_once(
    api: BotApiStandIn, telegram: Bot, uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    assert await queue(uow_factory, clock, news(ANN, "meetup:1")) == 1
    assert await queue(uow_factory, clock, news(ANN, "meetup:1")) == 0  # the job ran again
    worker = worker_for(telegram, uow_factory, clock)

    await worker.drain()
    await worker.drain()

    assert texts_to(api, ANN) == [f"News for {ANN}"]
    sent = await row(uow_factory, "meetup:1")
    assert (sent.status, sent.attempts) == (OutboxStatus.SENT, 1)
    assert sent.message_id == api.delivered_to(ANN)[0]["message_id"]
    assert worker.stats.sent == 1


async def test_a_429_pauses_all_sending_by_retry_after_and_the_message_goes_once(
    api: BotApiStandIn, telegram: Bot, uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    api.rate_limit(retry_after=1, chat_id=ANN)
    await queue(uow_factory, clock, news(ANN))
    worker = worker_for(telegram, uow_factory, clock)

    await worker.drain()  # 429: the message waits for its retry_after
    limited = await row(uow_factory, f"news:{ANN}")
    assert limited.status == OutboxStatus.QUEUED
    assert limited.not_before == clock.now() + timedelta(seconds=1)
    assert "retry after" in (limited.error or "")
    ((refused, code),) = api.errors
    assert code == 429

    await queue(uow_factory, clock, news(BOB), news(CAROL))
    clock.set(clock.now() + timedelta(seconds=1))
    await worker.drain()

    assert [len(api.delivered_to(chat)) for chat in (ANN, BOB, CAROL)] == [1, 1, 1]
    accepted = [call for call in api.calls_of("sendMessage") if call is not refused][-3:]
    # Nobody was sent anything before the pause was over (the stand-in's clock is real).
    assert min(call.at for call in accepted) >= refused.at + 1 - 0.05
    assert (worker.stats.rate_limited, worker.budget.pauses) == (1, 1)
    assert (await row(uow_factory, f"news:{ANN}")).attempts == 2


async def test_a_403_marks_the_member_unreachable_and_stops_their_messages_and_reminders(
    api: BotApiStandIn, telegram: Bot, uow_factory: UnitOfWorkFactory
):
    await community_with_alice(uow_factory, reminder_hour=20)
    bob = 1_002
    async with uow_factory() as uow:  # Bob, in the same community, has not blocked the bot
        await uow.members.upsert(Person(bob, "Bob"), SHANGHAI_EIGHT_PM)
        await uow.members.update(bob, started_bot=True)
        await uow.memberships.add(GROUP, bob, role=ChatRole.MEMBER, now=SHANGHAI_EIGHT_PM)
        await uow.memberships.set_reminder_hour(GROUP, bob, 20)
        await uow.commit()
    clock = VirtualClock(SHANGHAI_EIGHT_PM - timedelta(days=1))
    api.block_chat(ALICE)
    await queue(uow_factory, clock, news(ALICE, "a:1"), news(ALICE, "a:2"), news(bob, "b:1"))
    worker = worker_for(telegram, uow_factory, clock)

    await worker.drain()

    refused = [(call.params["chat_id"], code) for call, code in api.errors]
    assert refused == [(ALICE, 403)]  # the second message to Alice was never tried
    assert [(await row(uow_factory, key)).status for key in ("a:1", "a:2", "b:1")] == [
        OutboxStatus.BLOCKED,
        OutboxStatus.BLOCKED,
        OutboxStatus.SENT,
    ]
    assert (await row(uow_factory, "a:1")).error == "Forbidden: bot was blocked by the user"
    async with uow_factory() as uow:
        alice = await uow.members.get(ALICE)
    assert alice is not None
    assert not alice.reachable

    notifier = PrivateNotifier(OutboxWriter(build_i18n(), clock))
    clock.set(SHANGHAI_EIGHT_PM)
    assert await jobs.checkin_reminders(uow_factory, notifier, clock) == 1  # Bob's only
    await worker.drain()
    assert len(api.delivered_to(bob)) == 2
    assert api.delivered_to(ALICE) == []
    assert len(api.calls_of("sendMessage")) == 3  # nothing more was tried for Alice


async def test_a_400_is_failed_with_its_reason_and_never_retried(
    api: BotApiStandIn, telegram: Bot, uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    api.bad_request(description="Bad Request: chat not found", chat_id=ANN)
    await queue(uow_factory, clock, news(ANN), news(BOB))
    worker = worker_for(telegram, uow_factory, clock)

    await worker.drain()
    clock.set(clock.now() + timedelta(hours=1))
    await worker.drain()

    failed = await row(uow_factory, f"news:{ANN}")
    assert (failed.status, failed.error) == (OutboxStatus.FAILED, "Bad Request: chat not found")
    assert len(api.sent_messages(ANN)) == 1
    assert len(api.delivered_to(BOB)) == 1
    async with uow_factory() as uow:
        counts = await uow.outbox.counts()
    assert counts.recent_errors == (("news", "Bad Request: chat not found", 1),)


async def test_a_server_error_is_retried_with_growing_pauses_then_sent_once(
    api: BotApiStandIn, telegram: Bot, uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    api.fail_next("sendMessage", error_code=502, description="Bad Gateway", chat_id=ANN, times=2)
    await queue(uow_factory, clock, news(ANN))
    worker = worker_for(telegram, uow_factory, clock)
    start = clock.now()

    await worker.drain()
    assert (await row(uow_factory, f"news:{ANN}")).not_before == start + timedelta(seconds=2)
    await worker.drain()
    assert len(api.sent_messages(ANN)) == 1  # not before its time

    clock.set(start + timedelta(seconds=2))
    await worker.drain()
    assert (await row(uow_factory, f"news:{ANN}")).not_before == start + timedelta(seconds=6)

    clock.set(start + timedelta(seconds=6))
    await worker.drain()
    sent = await row(uow_factory, f"news:{ANN}")
    assert (sent.status, sent.attempts) == (OutboxStatus.SENT, 3)
    assert len(api.delivered_to(ANN)) == 1
    assert worker.stats.retried == 2


async def test_a_message_failing_every_time_is_given_up_after_the_last_attempt(
    api: BotApiStandIn, telegram: Bot, uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    api.fail_next("sendMessage", error_code=500, description="Internal", chat_id=ANN, times=99)
    await queue(uow_factory, clock, news(ANN))
    worker = worker_for(telegram, uow_factory, clock)

    for _ in range(MAX_ATTEMPTS + 2):
        await worker.drain()
        clock.set(clock.now() + timedelta(hours=1))

    failed = await row(uow_factory, f"news:{ANN}")
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, MAX_ATTEMPTS)
    assert len(api.sent_messages(ANN)) == MAX_ATTEMPTS


def stored_photo(key: str, chat_id: int, attachment_id: int) -> OutgoingMessage:
    """A photo message whose bytes wait in the ``attachment`` table (as digest charts do)."""
    return OutgoingMessage(
        dedupe_key=key,
        chat_id=chat_id,
        payload={"attachment": attachment_id, "caption": "Weekly chart"},
        kind="digest_chart",
        method=Method.SEND_PHOTO,
    )


async def test_a_photo_stored_as_an_attachment_is_uploaded_with_its_bytes(
    api: BotApiStandIn, telegram: Bot, uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    chart = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    async with uow_factory() as uow:
        attachment_id = await uow.attachments.add("active.png", chart, clock.now())
        await uow.commit()
    await queue(uow_factory, clock, stored_photo("chart:1", ANN, attachment_id))

    await worker_for(telegram, uow_factory, clock).drain()

    [sent] = api.calls_of("sendPhoto")
    assert sent.uploads == {"photo": chart}
    assert sent.params["photo"] == {"filename": "active.png", "size": len(chart)}
    assert sent.params["caption"] == "Weekly chart"
    assert (await row(uow_factory, "chart:1")).status == OutboxStatus.SENT


async def test_a_photo_whose_attachment_was_purged_fails_with_the_reason(
    api: BotApiStandIn, telegram: Bot, uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    await queue(uow_factory, clock, stored_photo("chart:gone", ANN, 404))

    await worker_for(telegram, uow_factory, clock).drain()

    failed = await row(uow_factory, "chart:gone")
    assert failed.status == OutboxStatus.FAILED
    assert failed.error == "LookupError: attachment 404 is no longer stored"
    assert api.calls_of("sendPhoto") == []


async def test_replies_and_reminders_queued_after_a_broadcast_go_first(
    api: BotApiStandIn, telegram: Bot, uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    await queue(uow_factory, clock, *(news(5_000 + index) for index in range(5)))
    await queue(
        uow_factory,
        clock,
        news(ANN, "reminder", priority=Priority.REMINDER),
        news(BOB, "reply", priority=Priority.REPLY),
    )
    worker = worker_for(telegram, uow_factory, clock, concurrency=1)

    await worker.drain()

    order = [item["chat"]["id"] for item in api.delivered]
    assert order == [BOB, ANN, *range(5_000, 5_005)]


async def test_the_check_in_reminder_job_reaches_telegram_through_the_worker(
    api: BotApiStandIn, sqlite_url: str
):
    clock = VirtualClock(SHANGHAI_EIGHT_PM)
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
    hearth = build_hearth(make_settings(sqlite_url), clock=clock, session=session)
    await fresh_schema(hearth.engine)
    await hearth.on_startup()  # starts the delivery worker
    try:
        await community_with_alice(hearth.uow_factory, reminder_hour=20)
        assert await jobs.checkin_reminders(hearth.uow_factory, hearth.notifier, clock) == 1
        call = await api.wait_for_call(
            "sendMessage", lambda call: call.params.get("chat_id") == ALICE, timeout=10
        )
        await asyncio.sleep(0.2)  # the outcome is recorded right after the answer
        async with hearth.uow_factory() as uow:
            counts = await uow.outbox.counts()
    finally:
        await hearth.on_shutdown()
        await hearth.bot.session.close()

    assert call.params["text"] == "Time to check in to Owners!"
    assert call.params["reply_markup"]["inline_keyboard"]  # the "check in now" button
    assert counts[OutboxStatus.SENT] == 1
    assert len(api.delivered_to(ALICE)) == 1


# ---------------------------------------------------------- the send budget, virtual time


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock jumps ahead whenever every task is waiting for time.

    Sleeps take no real time, so the budget's windows are checked exactly, on any machine.
    """

    def __init__(self) -> None:
        super().__init__()
        self._now = 0.0
        selector = self._selector  # type: ignore[attr-defined]
        real_select = selector.select

        def select(timeout: float | None = None) -> Any:
            events = real_select(0)
            if not events and timeout is None:
                raise RuntimeError("every task waits and nothing is scheduled: a deadlock")
            if not events and timeout:
                self._now += timeout
            return events

        selector.select = select

    def time(self) -> float:
        return self._now


def in_virtual_time(main: Coroutine[Any, Any, T]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


async def grants(
    budget: SendBudget, requests: list[tuple[int, Priority]], *, stagger: float = 0.0
) -> list[tuple[float, int, Priority]]:
    """When each (chat, priority) request got its slot, in the order they were granted."""
    loop = asyncio.get_running_loop()
    granted: list[tuple[float, int, Priority]] = []

    async def one(index: int, chat_id: int, priority: Priority) -> None:
        await asyncio.sleep(index * stagger)
        async with budget.slot(chat_id, priority):
            granted.append((loop.time(), chat_id, priority))

    await asyncio.gather(*(one(i, chat, priority) for i, (chat, priority) in enumerate(requests)))
    return granted


def most_in_any_window(times: list[float], window: float) -> int:
    window -= 1e-3  # the budget may grant a microsecond early (float rounding)
    return max(sum(1 for other in times if start <= other < start + window) for start in times)


def test_a_group_gets_at_most_its_budget_in_any_minute():
    async def main() -> list[tuple[float, int, Priority]]:
        budget = SendBudget(per_second=30, per_group_per_minute=3)
        return await grants(budget, [(-100, Priority.BROADCAST)] * 7)

    times = [at for at, _, _ in in_virtual_time(main())]
    assert most_in_any_window(times, 60) == 3
    assert times == pytest.approx([0, 0, 0, 60, 60, 60, 120])  # a burst, then the next minute


def test_a_private_chat_gets_one_message_a_second_and_other_chats_are_not_held_up():
    async def main() -> list[tuple[float, int, Priority]]:
        budget = SendBudget(per_second=30, per_private_chat_per_second=1)
        return await grants(budget, [(ANN, Priority.BROADCAST)] * 3 + [(BOB, Priority.BROADCAST)])

    granted = in_virtual_time(main())
    assert [at for at, chat, _ in granted if chat == ANN] == pytest.approx([0, 1, 2])
    assert [at for at, chat, _ in granted if chat == BOB] == [0]


def test_the_overall_budget_holds_in_every_second_and_a_429_stops_everyone():
    async def main() -> list[tuple[float, int, Priority]]:
        budget = SendBudget(per_second=5)

        async def too_many_requests() -> None:
            await asyncio.sleep(1.5)
            budget.pause(10)

        pause = asyncio.create_task(too_many_requests())
        granted = await grants(budget, [(chat, Priority.BROADCAST) for chat in range(1, 21)])
        await pause
        return granted

    times = [at for at, _, _ in in_virtual_time(main())]
    assert most_in_any_window(times, 1) == 5
    assert [at for at in times if 1.5 < at < 11.5] == []  # even those already waiting
    assert len(times) == 20


def test_a_reply_waiting_for_a_busy_group_does_not_hold_up_broadcasts_to_others():
    async def main() -> list[tuple[float, int, Priority]]:
        budget = SendBudget(per_second=30, per_group_per_minute=1)
        return await grants(
            budget,
            [(-100, Priority.REPLY), (-100, Priority.REPLY)]
            + [(chat, Priority.BROADCAST) for chat in range(1, 6)],
            stagger=0.01,
        )

    granted = in_virtual_time(main())
    broadcasts = [at for at, _, priority in granted if priority is Priority.BROADCAST]
    replies = [at for at, _, priority in granted if priority is Priority.REPLY]
    assert replies == pytest.approx([0, 60])
    assert max(broadcasts) < 1  # not a minute behind the group's second reply


def test_a_reminder_overtakes_broadcasts_waiting_for_the_overall_budget():
    async def main() -> list[tuple[float, int, Priority]]:
        budget = SendBudget(per_second=2)
        requests = [(chat, Priority.BROADCAST) for chat in range(1, 9)]
        requests.insert(4, (ANN, Priority.REMINDER))  # arrives after four broadcasts
        return await grants(budget, requests, stagger=0.01)

    order = [priority for _, _, priority in in_virtual_time(main())]
    # Two broadcasts fit the first second and two more already wait for the overall budget
    # (they keep their places: at most the worker's concurrency); the reminder comes next,
    # before the broadcasts that arrived while it waited.
    assert order.index(Priority.REMINDER) == 4
