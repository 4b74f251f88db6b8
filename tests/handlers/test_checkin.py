"""Check-ins through the real dispatcher: local days, streaks, freezes, points, the group budget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from hearth.simulate import updates
from hearth.simulate.clock import VirtualClock
from hearth.storage import tables
from tests.conftest import BotHarness, make_harness
from tests.handlers.common import (
    ALICE,
    BORIS,
    CAROL,
    GROUP_ID,
    OTHER_GROUP,
    bot_serves_group,
    rows,
    said,
    says_privately,
)

# 23:50 in Shanghai is 15:50 UTC; ten minutes later it is the next local day.
BEFORE_MIDNIGHT = datetime(2026, 3, 2, 15, 50, tzinfo=UTC)
AFTER_MIDNIGHT = datetime(2026, 3, 2, 16, 5, tzinfo=UTC)


@pytest.fixture
async def shanghai(sqlite_url: str, clock: VirtualClock) -> AsyncIterator[BotHarness]:
    """A bot whose communities live in Asia/Shanghai."""
    harness = await make_harness(
        sqlite_url,
        clock,
        operator_ids="7",
        welcome_batch_seconds=0,
        default_timezone="Asia/Shanghai",
    )
    await bot_serves_group(harness)
    yield harness
    await harness.hearth.on_shutdown()


async def started(bot: BotHarness, person: dict[str, object]) -> None:
    await bot.feed(says_privately(person, "/start"))


async def checks_in(bot: BotHarness, person: dict[str, object], at: datetime) -> None:
    bot.hearth.clock.set(at)  # type: ignore[attr-defined]
    await bot.feed(said(person, "/checkin", at))


def reactions(bot: BotHarness) -> list[str]:
    return [call.params["reaction"][0]["emoji"] for call in bot.session.of("setMessageReaction")]


async def test_a_checkin_in_the_group_is_a_reaction_there_and_the_details_in_private(
    shanghai: BotHarness,
) -> None:
    await started(shanghai, ALICE)
    shanghai.session.clear()

    await checks_in(shanghai, ALICE, BEFORE_MIDNIGHT)

    assert reactions(shanghai) == ["🔥"]
    assert shanghai.session.texts_to(GROUP_ID) == []  # nothing from the group's budget
    [details] = shanghai.session.texts_to(ALICE["id"])
    assert "Streak: 1 days" in details
    assert "+30 points (check-in +10, first check-in bonus +20). Balance: 30." in details


async def test_a_first_checkin_of_a_member_who_never_started_the_bot_gets_one_group_reply(
    shanghai: BotHarness,
) -> None:
    await checks_in(shanghai, CAROL, BEFORE_MIDNIGHT)
    await checks_in(shanghai, CAROL, AFTER_MIDNIGHT)

    [reply] = shanghai.session.messages_to(GROUP_ID)  # the second day: a reaction only
    assert "Carol checked in!" in reply.text
    assert reply.button_urls() == [f"https://t.me/hearth_test_bot?start=c{GROUP_ID}"]
    assert reactions(shanghai) == ["🔥", "🔥"]


async def test_the_day_turns_at_midnight_in_the_communitys_time_zone(shanghai: BotHarness):
    await started(shanghai, ALICE)
    await checks_in(shanghai, ALICE, BEFORE_MIDNIGHT)
    shanghai.session.clear()

    await checks_in(shanghai, ALICE, BEFORE_MIDNIGHT + timedelta(minutes=5))
    [again] = shanghai.session.texts_to(ALICE["id"])
    assert "You have already checked in today. Streak: 1 days." in again
    assert "opens in 0 h 5 min" in again

    await checks_in(shanghai, ALICE, AFTER_MIDNIGHT)  # 00:05 the next day in Shanghai
    assert "Streak: 2 days" in shanghai.session.texts_to(ALICE["id"])[-1]
    days = sorted(str(row.local_day) for row in await rows(shanghai, tables.Checkin))
    assert days == ["2026-03-02", "2026-03-03"]


async def test_a_week_of_checkins_earns_a_freeze_that_covers_a_missed_day(shanghai: BotHarness):
    await started(shanghai, ALICE)
    for day in range(7):
        await checks_in(shanghai, ALICE, BEFORE_MIDNIGHT + timedelta(days=day))
    week = shanghai.session.texts_to(ALICE["id"])[-1]
    assert "Streak: 7 days" in week
    assert "You earned a streak freeze (1 held)" in week
    assert "7-day streak +30" in week

    # Day 8 is missed; on day 9 the freeze covers it and the streak goes on.
    await checks_in(shanghai, ALICE, BEFORE_MIDNIGHT + timedelta(days=8))
    after_gap = shanghai.session.texts_to(ALICE["id"])[-1]
    assert "Streak: 8 days" in after_gap
    assert "A streak freeze covered 1 missed day(s)." in after_gap

    # Two more missed days with no freeze left: a new streak starts.
    await checks_in(shanghai, ALICE, BEFORE_MIDNIGHT + timedelta(days=11))
    restart = shanghai.session.texts_to(ALICE["id"])[-1]
    assert "Streak: 1 days (best: 8)" in restart
    assert "Your 8-day streak ended" in restart


async def test_a_seven_day_streak_is_celebrated_in_the_group_once(shanghai: BotHarness):
    await started(shanghai, ALICE)
    for day in range(8):
        await checks_in(shanghai, ALICE, BEFORE_MIDNIGHT + timedelta(days=day))
    celebrations = [t for t in shanghai.session.texts_to(GROUP_ID) if "in a row" in t]
    assert celebrations == ["🔥 Alice has checked in 7 days in a row!"]


async def test_a_redelivered_checkin_update_credits_nothing_twice(shanghai: BotHarness):
    await started(shanghai, ALICE)
    shanghai.hearth.clock.set(BEFORE_MIDNIGHT)  # type: ignore[attr-defined]
    update = {**said(ALICE, "/checkin", BEFORE_MIDNIGHT), "update_id": 9000}
    await shanghai.feed(update)
    await shanghai.feed(update)

    entries = await rows(shanghai, tables.PointsEntry)
    assert sorted(entry.amount for entry in entries) == [10, 20]
    [balance] = await rows(shanghai, tables.PointsBalance)
    assert balance.balance == 30


async def test_checking_in_privately_asks_which_community_when_there_are_two(
    shanghai: BotHarness,
) -> None:
    await bot_serves_group(shanghai, chat=OTHER_GROUP)
    await shanghai.feed(said(ALICE, "hello", BEFORE_MIDNIGHT))
    await shanghai.feed(updates.message(OTHER_GROUP, ALICE, "hi there", BEFORE_MIDNIGHT))
    await shanghai.flush()
    shanghai.session.clear()
    shanghai.hearth.clock.set(BEFORE_MIDNIGHT)  # type: ignore[attr-defined]

    await shanghai.feed(says_privately(ALICE, "/checkin", BEFORE_MIDNIGHT))
    [picker] = shanghai.session.messages_to(ALICE["id"])
    assert picker.text == "Which community?"
    choice = picker.button_data()[0]

    await shanghai.feed(updates.callback_query(ALICE, choice, BEFORE_MIDNIGHT))
    assert "Checked in!" in shanghai.session.texts_to(ALICE["id"])[-1]
    assert len(await rows(shanghai, tables.Checkin)) == 1


async def test_checkins_today_lists_the_count_and_the_longest_streaks(shanghai: BotHarness):
    await started(shanghai, ALICE)
    for day in range(3):
        await checks_in(shanghai, ALICE, BEFORE_MIDNIGHT + timedelta(days=day))
    await checks_in(shanghai, BORIS, BEFORE_MIDNIGHT + timedelta(days=2))
    shanghai.session.clear()

    await shanghai.feed(said(ALICE, "/checkins", BEFORE_MIDNIGHT + timedelta(days=2)))

    [board] = shanghai.session.texts_to(GROUP_ID)
    assert board.splitlines() == [
        "<b>Check-ins today</b>: 2",
        "1. Alice — 3 days",
        "2. Boris — 1 days",
    ]


async def test_a_reminder_hour_is_remembered_and_bad_hours_are_explained(shanghai: BotHarness):
    await started(shanghai, ALICE)
    await shanghai.feed(said(ALICE, "hello"))
    await shanghai.flush()
    shanghai.session.clear()

    await shanghai.feed(says_privately(ALICE, "/reminder 20"))
    await shanghai.feed(says_privately(ALICE, "/reminder 25"))

    set_reply, usage = shanghai.session.texts_to(ALICE["id"])
    assert "I will remind you at 20:00" in set_reply
    assert usage.startswith("Usage: /reminder 20")
    [alices] = [m for m in await rows(shanghai, tables.Membership) if m.member_id == ALICE["id"]]
    assert alices.checkin_reminder_hour == 20


async def test_a_member_who_blocked_the_bot_is_marked_unreachable_by_the_acknowledgement(
    shanghai: BotHarness,
) -> None:
    from tests.telegram import Failure

    await started(shanghai, ALICE)
    shanghai.session.fail(
        "sendMessage", ALICE["id"], Failure(403, "Forbidden: bot was blocked by the user")
    )

    await checks_in(shanghai, ALICE, BEFORE_MIDNIGHT)

    assert reactions(shanghai) == ["🔥"]  # the check-in itself stands
    [alice] = [m for m in await rows(shanghai, tables.Member) if m.id == ALICE["id"]]
    assert not alice.reachable
    [checkin] = await rows(shanghai, tables.Checkin)
    assert checkin.member_id == ALICE["id"]


async def test_a_silver_member_earns_the_tiers_multiplier(shanghai: BotHarness) -> None:
    from hearth.domain.points import EntryKind, PointsRules
    from hearth.services import points

    await started(shanghai, ALICE)
    await shanghai.feed(said(ALICE, "hello everyone", BEFORE_MIDNIGHT - timedelta(days=3)))
    await shanghai.flush()
    async with shanghai.uow() as uow:  # 500 points this year: Silver, ×1.1
        await points.credit(
            uow,
            community_id=GROUP_ID,
            member_id=ALICE["id"],
            amount=500 - await uow.points.balance(GROUP_ID, ALICE["id"]),
            kind=EntryKind.GRANT,
            reason="welcome gift",
            key="gift",
            now=BEFORE_MIDNIGHT - timedelta(days=2),
            timezone="Asia/Shanghai",
            rules=PointsRules(),
        )
        await uow.commit()

    await checks_in(shanghai, ALICE, BEFORE_MIDNIGHT)

    details = shanghai.session.texts_to(ALICE["id"])[-1]
    assert "+33 points (check-in +11, first check-in bonus +22). Balance: 533." in details
