"""A burst of newcomers gets one group welcome, not one each (20 messages/min per group)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hearth.simulate import updates
from hearth.simulate.clock import VirtualClock
from tests.conftest import BotHarness, make_harness
from tests.handlers.common import GROUP, GROUP_ID, NOW, bot_added

WINDOW = 0.3


@pytest.fixture
async def batching_bot(sqlite_url: str, clock: VirtualClock) -> AsyncIterator[BotHarness]:
    harness = await make_harness(sqlite_url, clock, welcome_batch_seconds=WINDOW)
    yield harness
    await harness.hearth.on_shutdown()


def joined(user_id: int, name: str) -> dict[str, object]:
    return updates.chat_member_update(GROUP, updates.user(user_id, name), "left", "member", NOW)


def welcomes(bot: BotHarness) -> list[str]:
    return [text for text in bot.session.texts_to(GROUP_ID) if text.startswith("Welcome")]


async def test_newcomers_arriving_together_are_welcomed_in_one_message(batching_bot: BotHarness):
    await batching_bot.feed(bot_added())
    await batching_bot.feed(joined(201, "Ann"))
    await batching_bot.feed(joined(202, "Ben"))
    await batching_bot.feed(joined(203, "Cai"))

    assert welcomes(batching_bot) == [
        "Welcome, Ann! Say hello to everyone. Open Hearth in private to get personal updates."
    ]
    await asyncio.sleep(WINDOW * 2)
    later = welcomes(batching_bot)[1:]
    assert later == [
        "Welcome, Ben and Cai! Say hello to everyone. Open Hearth in private to get "
        "personal updates."
    ]


async def test_newcomers_still_waiting_at_shutdown_are_welcomed_before_the_bot_stops(
    sqlite_url: str, clock: VirtualClock
):
    bot = await make_harness(sqlite_url, clock, welcome_batch_seconds=3600)
    await bot.feed(bot_added())
    await bot.feed(joined(201, "Ann"))
    await bot.feed(joined(202, "Ben"))
    assert len(welcomes(bot)) == 1

    await bot.hearth.on_shutdown()

    assert welcomes(bot)[-1].startswith("Welcome, Ben!")
