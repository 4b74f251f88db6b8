"""Concurrency: two workers (each its own engine and dispatcher, as two processes behind a
webhook's load balancer) on one PostgreSQL database, handling overlapping updates at once.
Check-ins credit once a day, a reward is never sold beyond its stock, an event never takes
more than its capacity and loses nobody's answer, and one update is handled once.

SQLite has one writer at a time and no second process in these tests: PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from redis.asyncio import Redis

from hearth.bot.middlewares.dedupe import DedupeMiddleware, SharedUpdateClaims
from hearth.domain.events import RsvpStatus
from hearth.simulate import updates
from hearth.storage.events import RsvpRow
from hearth.storage.rewards import RedemptionRow, RewardRow
from tests.conftest import POSTGRES_URL, REDIS_URL, BotHarness
from tests.handlers.common import ADMIN, GROUP, GROUP_ID, NOW, admins, rows, said, says_privately
from tests.reliability.conftest import Databases
from tests.reliability.world import (
    EVENT_CAPACITY,
    REWARD_COST,
    REWARD_STOCK,
    STARTING_POINTS,
    Furnishings,
    furnish,
    redeem_button,
    snapshot,
)

pytestmark = pytest.mark.skipif(
    POSTGRES_URL is None,
    reason="two workers on one database need PostgreSQL: set HEARTH_TEST_DATABASE_URL",
)

ANONYMOUS_ADMIN = updates.user(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
CROWD = tuple(updates.user(200 + number, f"Member {number}") for number in range(12))
PRESSES_PER_WORKER = 2


@pytest.fixture
def backend() -> str:
    return "postgresql"


class Workers:
    """Two Hearths on one database, and update ids as Telegram hands them out."""

    def __init__(self, first: BotHarness, second: BotHarness, furnished: Furnishings) -> None:
        self.all = (first, second)
        self.furnished = furnished
        self._ids = iter(range(500_000, 1_000_000))

    def numbered(self, raw: updates.JsonDict) -> updates.JsonDict:
        """``raw`` as a new update (its own update id, and query id for a button)."""
        update_id = next(self._ids)
        numbered = {**raw, "update_id": update_id}
        if "callback_query" in raw:
            numbered["callback_query"] = {**raw["callback_query"], "id": str(update_id)}
        return numbered

    async def at_once(self, deliveries: list[tuple[BotHarness, updates.JsonDict]]) -> None:
        """Feed every (worker, update) concurrently, in a shuffled order."""
        random.Random(7).shuffle(deliveries)
        await asyncio.gather(*(worker.feed(update) for worker, update in deliveries))
        for worker in self.all:
            await worker.flush()

    def calls(self, method: str) -> list[Any]:
        return [call for worker in self.all for call in worker.session.of(method)]


@pytest.fixture
async def workers(databases: Databases) -> Workers:
    """The furnished group, with twelve more members who have points and started the bot;
    then a second worker joins the first."""
    first = await databases.start("shared")
    furnished = await furnish(first, members=CROWD)
    for person in CROWD:
        await first.feed(says_privately(person, "/start"))
    second = await databases.start("shared")
    for worker in (first, second):
        worker.session.admins[GROUP_ID] = admins(ADMIN)
        worker.session.clear()
    return Workers(first, second, furnished)


def each_worker(workers: Workers, raw: updates.JsonDict) -> Iterator[tuple[BotHarness, Any]]:
    """``raw``, sent PRESSES_PER_WORKER times to each worker, each time as a new update."""
    for worker in workers.all:
        for _ in range(PRESSES_PER_WORKER):
            yield worker, workers.numbered(raw)


async def test_checkins_of_the_same_members_on_both_workers_credit_once_a_day(
    workers: Workers,
) -> None:
    await workers.at_once(
        [
            delivery
            for person in CROWD
            for raw in (said(person, "/checkin"), says_privately(person, "/checkin"))
            for delivery in each_worker(workers, raw)
        ]
    )

    state = await snapshot(workers.all[0])
    checkins = Counter(dict(row)["member_id"] for row in state["checkin"])
    assert checkins == {person["id"]: 1 for person in CROWD}
    checkin_points = Counter(
        (entry["member_id"], entry["reason"])
        for entry in map(dict, state["points_entry"])
        if entry["reason"] in ("checkin", "first_checkin")
    )
    assert checkin_points == {
        (person["id"], reason): 1 for person in CROWD for reason in ("checkin", "first_checkin")
    }
    assert_books_balance(state)


async def test_more_redeemers_than_stock_on_both_workers_never_oversell(
    workers: Workers,
) -> None:
    reward = workers.furnished.reward_id
    deliveries = []
    for person in CROWD:
        # A fresh Confirm button on each worker, and one button pressed on both.
        for worker in workers.all:
            press = updates.callback_query(person, redeem_button(person, reward), NOW)
            deliveries.append((worker, workers.numbered(press)))
        deliveries += each_worker(
            workers, updates.callback_query(person, redeem_button(person, reward), NOW)
        )

    await workers.at_once(deliveries)

    redemptions = await rows(workers.all[0], RedemptionRow)
    [stocked] = await rows(workers.all[0], RewardRow)
    assert len(redemptions) == REWARD_STOCK
    assert stocked.stock == 0
    state = await snapshot(workers.all[0])
    spent = Counter(
        entry["member_id"] for entry in map(dict, state["points_entry"]) if entry["amount"] < 0
    )
    assert spent == Counter(redemption.member_id for redemption in redemptions)
    for redemption in redemptions:
        assert redemption.cost == REWARD_COST
    assert_books_balance(state)


async def test_more_takers_than_places_on_both_workers_lose_no_answer(
    workers: Workers,
) -> None:
    event = workers.furnished.event_id
    await workers.at_once(
        [
            delivery
            for person in CROWD
            for delivery in each_worker(
                workers, updates.callback_query(person, f"ev1r:{event}:g", NOW, chat=GROUP)
            )
        ]
    )

    answers = await rows(workers.all[0], RsvpRow)
    assert sorted(answer.member_id for answer in answers) == sorted(p["id"] for p in CROWD)
    statuses = Counter(answer.status for answer in answers)
    assert statuses == {
        RsvpStatus.GOING: EVENT_CAPACITY,
        RsvpStatus.WAITLISTED: len(CROWD) - EVENT_CAPACITY,
    }
    waitlist = [answer.waitlist_position for answer in answers if answer.waitlisted_at]
    assert len(set(waitlist)) == len(waitlist)


async def both_know(workers: Workers, person: updates.JsonDict) -> None:
    """Both workers have met ``person`` (and keep them in memory)."""
    for worker in workers.all:
        await worker.feed(workers.numbered(says_privately(person, "/help")))
        worker.session.clear()


async def test_an_update_delivered_to_both_workers_at_once_is_handled_once(
    workers: Workers,
) -> None:
    event = workers.furnished.event_id
    person, chatty = CROWD[0], CROWD[1]
    await both_know(workers, person)
    chatter = workers.numbered(said(chatty, "Anyone up for a drive on Sunday morning?"))
    the_same = [
        workers.numbered(says_privately(person, "/checkin")),
        workers.numbered(says_privately(person, "/help")),
        workers.numbered(says_privately(person, "/points")),
        workers.numbered(updates.callback_query(person, f"ev1r:{event}:m", NOW, chat=GROUP)),
        chatter,
    ]

    await workers.at_once([(worker, raw) for raw in the_same for worker in workers.all])

    answers = [call for call in workers.calls("sendMessage") if call.chat_id == person["id"]]
    assert len(answers) == 3  # the check-in, the help, the points
    assert len(workers.calls("answerCallbackQuery")) == 1
    state = await snapshot(workers.all[0])
    counted = [
        row for row in map(dict, state["activity"]) if row["update_id"] == chatter["update_id"]
    ]
    assert [row["member_id"] for row in counted] == [chatty["id"]]
    assert_books_balance(state)


@pytest.mark.skipif(REDIS_URL is None, reason="HEARTH_TEST_REDIS_URL is not set")
async def test_an_update_that_needs_no_database_delivered_to_both_workers_is_answered_once(
    workers: Workers,
) -> None:
    """A worker records an update as handled in the transaction of its work; an update
    answered without any (free text in private from a member both workers know, an
    anonymous admin's command) is held back by the workers' shared claims in Redis."""
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL)
    namespace = f"hearth-test:{uuid.uuid4().hex}"  # no update ids remembered from other runs
    for worker in workers.all:
        dedupe = next(
            middleware
            for middleware in worker.hearth.dispatcher.update.outer_middleware
            if isinstance(middleware, DedupeMiddleware)
        )
        dedupe.shared = SharedUpdateClaims(redis, namespace, poll=0.01)
    person = CROWD[0]
    await both_know(workers, person)
    the_same = [
        workers.numbered(says_privately(person, "what can you do?")),
        workers.numbered(said(ANONYMOUS_ADMIN, "/stats", sender_chat=GROUP)),
    ]
    try:
        await workers.at_once([(worker, raw) for raw in the_same for worker in workers.all])
    finally:
        await redis.aclose()

    assert len(workers.calls("sendMessage")) == len(the_same)


def assert_books_balance(state: dict[str, list[Any]]) -> None:
    """Every balance is the sum of its member's ledger (and no balance went negative)."""
    sums: Counter[tuple[int, int]] = Counter()
    for entry in map(dict, state["points_entry"]):
        sums[(entry["community_id"], entry["member_id"])] += entry["amount"]
    balances = {
        (row["community_id"], row["member_id"]): row["balance"]
        for row in map(dict, state["points_balance"])
    }
    assert {key: value for key, value in balances.items() if value} == +sums
    assert all(value >= 0 for value in balances.values())
    assert all(sums[(GROUP_ID, person["id"])] <= 10 * STARTING_POINTS for person in CROWD)
