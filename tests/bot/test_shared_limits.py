"""Several workers on one Redis: one send budget for the bot, one cache of chat admins.

Each "worker" here is its own ``SendBudget`` or ``ChatAdminOperators`` with its own Redis
connection pool, as in separate processes. Grants are counted over any window a little
shorter than Telegram's (the hop to Redis takes a moment); a budget that were not shared
would grant twice as many at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterable

import pytest
from aiogram import Bot
from redis.asyncio import Redis

from hearth.bot.acknowledgements import Acknowledgements
from hearth.bot.app import build_hearth
from hearth.bot.delivery import SendBudget
from hearth.bot.operators import ChatAdminOperators
from hearth.bot.shared_limits import SharedLimits
from hearth.domain.delivery import Priority
from hearth.services.directory import Directory
from hearth.storage.unit_of_work import UnitOfWorkFactory
from tests.conftest import REDIS_URL, make_settings
from tests.handlers.common import ADMIN, ALICE, BORIS, GROUP_ID, OTHER_GROUP_ID, admins
from tests.telegram import BOT_ID, TOKEN, RecordingSession

pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="HEARTH_TEST_REDIS_URL is not set")

HOP = 0.1  # seconds a grant may be seen after Redis counted it


@pytest.fixture
async def connect() -> AsyncIterator[Callable[[], Redis]]:
    """A new connection pool per call (one worker process each), all closed after the test."""
    clients: list[Redis] = []

    def new() -> Redis:
        assert REDIS_URL is not None
        clients.append(Redis.from_url(REDIS_URL))
        return clients[-1]

    yield new
    for client in clients:
        await client.aclose()


@pytest.fixture
async def namespace(connect: Callable[[], Redis]) -> AsyncIterator[str]:
    """Keys of this test only (what ``hearth:<bot id>`` is in production); removed after."""
    name = f"hearth-test:{uuid.uuid4().hex}"
    yield name
    redis = connect()
    keys = [key async for key in redis.scan_iter(f"{name}:*")]
    if keys:
        await redis.delete(*keys)


def worker_budget(
    connect: Callable[[], Redis], namespace: str, **rates: float
) -> tuple[SendBudget, SharedLimits]:
    shared = SharedLimits(connect(), namespace, **rates)
    return SendBudget(**rates, shared=shared), shared


async def grant_times(budget: SendBudget, chats: Iterable[int]) -> list[float]:
    """When each chat's slot was granted (loop time); all asked for at once."""
    loop = asyncio.get_running_loop()

    async def one(chat_id: int) -> float:
        async with budget.slot(chat_id, Priority.BROADCAST):
            return loop.time()

    return list(await asyncio.gather(*(one(chat) for chat in chats)))


def most_in_any_window(times: list[float], window: float) -> int:
    return max(sum(1 for other in times if start <= other < start + window) for start in times)


async def granted_within(budget: SendBudget, chat_id: int, seconds: float) -> bool:
    """Whether a slot for ``chat_id`` was granted within ``seconds`` (the wait is given up)."""

    async def enter() -> None:
        async with budget.slot(chat_id, Priority.REPLY):
            pass

    waiting = asyncio.create_task(enter())
    done, _ = await asyncio.wait({waiting}, timeout=seconds)
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    return bool(done)


# ------------------------------------------------------------------ the send budget


async def test_two_workers_together_send_no_more_than_the_overall_budget(
    connect: Callable[[], Redis], namespace: str
):
    first, _ = worker_budget(connect, namespace, per_second=5)
    second, _ = worker_budget(connect, namespace, per_second=5)

    one, other = await asyncio.gather(
        grant_times(first, range(1, 7)), grant_times(second, range(101, 107))
    )

    times = sorted(one + other)
    assert len(times) == 12  # everybody got a slot in the end
    assert sum(1 for at in times if at < times[0] + 1 - HOP) == 5  # the first second: 5, not 10
    assert most_in_any_window(times, 1 - HOP) == 5


async def test_a_429_at_one_worker_pauses_the_others_and_a_shorter_one_does_not_cut_it(
    connect: Callable[[], Redis], namespace: str
):
    first, _ = worker_budget(connect, namespace)
    second, second_shared = worker_budget(connect, namespace)
    loop = asyncio.get_running_loop()

    first.pause(1)  # Telegram answered the first worker 429, retry after 1 s
    await first.settle()
    paused_at = loop.time()
    async with second.slot(ALICE["id"], Priority.REPLY):
        granted_at = loop.time()

    assert granted_at - paused_at >= 1 - HOP
    assert (first.pauses, second.pauses) == (1, 0)  # only the first was answered 429

    first.pause(30)
    first.pause(1)
    await first.settle()
    assert await second_shared.paused_for() > 20


async def test_a_group_budget_spent_by_one_worker_holds_the_others_for_that_group_only(
    connect: Callable[[], Redis], namespace: str
):
    first, _ = worker_budget(connect, namespace, per_group_per_minute=2)
    second, _ = worker_budget(connect, namespace, per_group_per_minute=2)
    for _ in range(2):
        async with first.slot(GROUP_ID, Priority.REPLY):
            pass

    assert not await granted_within(second, GROUP_ID, 0.5)  # its next slot is a minute away
    assert await granted_within(second, OTHER_GROUP_ID, 5)


async def test_two_bots_on_one_redis_keep_their_own_budgets(
    connect: Callable[[], Redis], namespace: str
):
    bot, _ = worker_budget(connect, f"{namespace}:bot-1", per_second=2)
    other_bot, _ = worker_budget(connect, f"{namespace}:bot-2", per_second=2)
    await grant_times(bot, [1, 2])  # the first bot's second is used up

    start = asyncio.get_running_loop().time()
    times = await grant_times(other_bot, [1, 2])

    assert max(times) - start < 1 - HOP


async def test_acknowledgements_go_out_through_a_shared_budget(
    connect: Callable[[], Redis], namespace: str, uow_factory: UnitOfWorkFactory
):
    budget, _ = worker_budget(connect, namespace)
    session = RecordingSession()
    acks = Acknowledgements(Bot(TOKEN, session=session), uow_factory, Directory(), budget)

    acks.react(GROUP_ID, 55, "🔥")
    acks.tell(ALICE["id"], "Checked in: day 3")
    await asyncio.wait_for(acks.idle(), timeout=10)
    await acks.stop()

    assert [call.method for call in session.calls] == ["setMessageReaction", "sendMessage"]
    assert session.texts_to(ALICE["id"]) == ["Checked in: day 3"]


async def test_a_worker_that_cannot_reach_redis_keeps_to_its_own_budget():
    unreachable = Redis.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    shared = SharedLimits(unreachable, "hearth-test:unreachable", per_second=2)
    budget = SendBudget(per_second=2, shared=shared)
    try:
        budget.pause(0.1)
        times = await grant_times(budget, [1, 2, 3])
        await budget.settle()
    finally:
        await unreachable.aclose()

    assert len(times) == 3  # sending goes on, at this worker's own pace
    assert most_in_any_window(times, 1 - HOP) == 2
    assert shared.unreachable


# ------------------------------------------------------------------ the chat admins


def telegram_with_admins(*people: dict[str, object]) -> tuple[Bot, RecordingSession]:
    session = RecordingSession()
    session.admins[GROUP_ID] = admins(*people)
    return Bot(TOKEN, session=session), session


async def test_workers_share_the_cached_admins_and_forget_clears_them_for_all(
    connect: Callable[[], Redis], namespace: str
):
    first = ChatAdminOperators(frozenset(), 300, redis=connect(), namespace=namespace)
    second = ChatAdminOperators(frozenset(), 300, redis=connect(), namespace=namespace)
    first_bot, first_telegram = telegram_with_admins(ADMIN, ALICE)
    second_bot, second_telegram = telegram_with_admins(ADMIN, ALICE)

    assert await first.is_operator(first_bot, GROUP_ID, ALICE["id"])
    assert await second.is_operator(second_bot, GROUP_ID, ALICE["id"])
    assert len(first_telegram.of("getChatAdministrators")) == 1
    assert second_telegram.of("getChatAdministrators") == []  # the first worker's answer

    # Boris is promoted, Alice is not an admin any more; the first worker sees the update.
    for telegram in (first_telegram, second_telegram):
        telegram.admins[GROUP_ID] = admins(ADMIN, BORIS)
    first.forget(GROUP_ID)
    await first.settle()

    assert await second.is_operator(second_bot, GROUP_ID, BORIS["id"])
    assert not await second.is_operator(second_bot, GROUP_ID, ALICE["id"])
    assert len(second_telegram.of("getChatAdministrators")) == 1


async def test_shared_admins_are_asked_again_after_the_cache_time(
    connect: Callable[[], Redis], namespace: str
):
    first = ChatAdminOperators(frozenset(), 1, redis=connect(), namespace=namespace)
    second = ChatAdminOperators(frozenset(), 1, redis=connect(), namespace=namespace)
    first_bot, _ = telegram_with_admins(ADMIN, ALICE)
    second_bot, second_telegram = telegram_with_admins(ADMIN, BORIS)

    assert await first.is_operator(first_bot, GROUP_ID, ALICE["id"])
    await asyncio.sleep(1.2)

    assert await second.is_operator(second_bot, GROUP_ID, BORIS["id"])
    assert len(second_telegram.of("getChatAdministrators")) == 1


# ------------------------------------------------------------------ the wiring


async def test_with_a_redis_url_workers_share_admins_and_429_pauses(sqlite_url: str):
    assert REDIS_URL is not None
    settings = make_settings(sqlite_url, redis_url=REDIS_URL)
    chat_id = -(10**12) - uuid.uuid4().int % 10**9  # a group no other test touches
    workers = [build_hearth(settings, session=RecordingSession()) for _ in range(2)]
    first, second = workers
    keys = [f"hearth:{BOT_ID}:admins:{chat_id}", f"hearth:{BOT_ID}:pause"]
    try:
        first.bot.session.admins[chat_id] = admins(ADMIN)  # type: ignore[attr-defined]
        assert await first.operators.is_operator(first.bot, chat_id, ADMIN["id"])
        assert await second.operators.is_operator(second.bot, chat_id, ADMIN["id"])

        first.delivery.budget.pause(2)
        await first.delivery.budget.settle()
        assert not await granted_within(second.delivery.budget, ALICE["id"], 0.5)
    finally:
        assert first.redis is not None
        await first.redis.delete(*keys)
        for worker in workers:
            assert worker.redis is not None
            await worker.redis.aclose()
            await worker.engine.dispose()
