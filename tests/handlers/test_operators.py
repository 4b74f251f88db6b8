"""Operator commands: who may use them, and what they answer."""

from __future__ import annotations

from hearth.simulate import updates
from tests.conftest import BotHarness
from tests.handlers.common import ADMIN, ALICE, GROUP, GROUP_ID, NOW, bot_added


async def test_group_admin_gets_stats_in_private_after_the_bot_joined_their_group(
    bot: BotHarness,
) -> None:
    bot.session.admins[GROUP_ID] = [{**ADMIN, "status": "creator"}]
    await bot.feed(bot_added())
    await bot.feed(updates.message(GROUP, ALICE, "hello all", NOW))
    await bot.flush()  # activity is written behind, within half a second
    bot.session.clear()

    await bot.feed(updates.message(updates.private(ADMIN), ADMIN, "/stats", NOW))

    [reply] = bot.session.texts_to(ADMIN["id"])
    assert "Pudong Owners" in reply
    assert "Active in 7 days (WAU): 1 · —" in reply.splitlines()  # nothing to compare yet
