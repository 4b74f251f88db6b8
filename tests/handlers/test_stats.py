"""/stats: the figures match what happened, periods, refusals, and the community picker."""

from __future__ import annotations

from datetime import datetime, timedelta

from hearth.simulate import updates
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    CAROL,
    DAVE,
    GROUP_ID,
    NOW,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    THIRD_GROUP,
    THIRD_GROUP_ID,
    admins,
    bot_serves_group,
    buttons,
    callback_answers,
    joins,
    leaves,
    presses,
    said,
    says_privately,
)

EVE = updates.user(105, "Eve")
DAY_ONE = NOW
DAY_TWO = NOW + timedelta(days=1)
LONG_AGO = NOW - timedelta(days=10)
NOT_AN_OPERATOR = "This command is for the community's operators."
USAGE = "Usage: /stats, /stats 7d, /stats 30d or /stats 90d"
PRIVACY_WARNING = "I am not an administrator here"


async def at(bot: BotHarness, moment: datetime, *raw_updates: updates.JsonDict) -> None:
    """Feed updates with the bot's clock set to ``moment``."""
    bot.hearth.clock.set(moment)  # type: ignore[attr-defined]
    for raw in raw_updates:
        await bot.feed(raw)


async def two_days_in_the_group(bot: BotHarness) -> None:
    """Eve spoke ten days ago; then, over two days: 2 joins, 1 leave, 4 members active.

    Day one: Alice joins and speaks, Boris and Dave speak.
    Day two: Alice speaks, Carol joins and speaks, Dave leaves.
    """
    await bot_serves_group(bot)  # Adam owns the group
    await at(bot, LONG_AGO, said(EVE, "anyone here?", LONG_AGO))
    await at(
        bot,
        DAY_ONE,
        joins(ALICE, DAY_ONE),
        said(ALICE, "hi", DAY_ONE),
        said(BORIS, "你好", DAY_ONE),
        said(DAVE, "morning", DAY_ONE),
    )
    await at(
        bot,
        DAY_TWO,
        said(ALICE, "again", DAY_TWO),
        joins(CAROL, DAY_TWO),
        said(CAROL, "hello", DAY_TWO),
        leaves(DAVE, DAY_TWO),
    )
    await bot.flush()
    bot.session.clear()


async def test_stats_in_the_group_by_an_admin_match_what_happened(bot: BotHarness) -> None:
    await two_days_in_the_group(bot)

    await bot.feed(said(ADMIN, "/stats", DAY_TWO))

    [reply] = bot.session.texts_to(GROUP_ID)
    assert reply.splitlines()[0] == "<b>Pudong Owners</b> — last 7 days"
    assert "Members now: 5" in reply  # Adam, Alice, Boris, Carol, Eve; Dave left
    assert "Joined: 2 · Left: 1" in reply
    assert "Active members: 4" in reply  # Alice, Boris, Carol, Dave; Eve is too long ago
    assert "Active today: 2" in reply  # Alice, Carol
    assert "Active per day (average): 0.7" in reply  # (3 + 2) / 7
    assert PRIVACY_WARNING not in reply


async def test_stats_over_thirty_days_reach_further_back_than_seven(bot: BotHarness) -> None:
    await two_days_in_the_group(bot)

    await bot.feed(said(ADMIN, "/stats 30d", DAY_TWO))
    await bot.feed(said(ADMIN, "/stats 7d", DAY_TWO))

    thirty, seven = bot.session.texts_to(GROUP_ID)
    assert thirty.splitlines()[0] == "<b>Pudong Owners</b> — last 30 days"
    assert "Active members: 5" in thirty  # Eve too
    assert seven.splitlines()[0] == "<b>Pudong Owners</b> — last 7 days"
    assert "Active members: 4" in seven


async def test_stats_with_a_period_it_does_not_know_answers_the_usage(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(said(ADMIN, "/stats 5x"))

    assert bot.session.texts_to(GROUP_ID) == [USAGE]


async def test_stats_in_the_group_by_a_member_is_refused(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(said(ALICE, "/stats"))

    assert bot.session.texts_to(GROUP_ID) == [NOT_AN_OPERATOR]


async def test_stats_in_private_by_a_member_who_operates_nothing_is_refused(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot.feed(said(ALICE, "hello"))

    await bot.feed(says_privately(ALICE, "/stats"))

    assert bot.session.texts_to(ALICE["id"]) == [NOT_AN_OPERATOR]


async def test_operator_of_two_communities_picks_one_and_gets_its_figures(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    bot.session.admins[THIRD_GROUP_ID] = admins(CAROL)
    await bot_serves_group(bot, chat=THIRD_GROUP)

    await bot.feed(says_privately(ADMIN, "/stats 30d"))

    [picker] = bot.session.messages_to(ADMIN["id"])
    assert picker.text == "Which community?"
    choices = {button["text"]: button["callback_data"] for button in buttons(picker)}
    assert choices == {
        "Pudong Owners": f"stats1:{GROUP_ID}:30",
        "Jinqiao Riders": f"stats1:{OTHER_GROUP_ID}:30",
    }
    bot.session.clear()

    await bot.feed(presses(ADMIN, choices["Jinqiao Riders"]))

    [answer] = callback_answers(bot)
    assert "text" not in answer.params
    [figures] = bot.session.texts_to(ADMIN["id"])
    assert figures.splitlines()[0] == "<b>Jinqiao Riders</b> — last 30 days"


async def test_forged_button_for_a_community_the_operator_does_not_operate_is_refused(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    bot.session.admins[THIRD_GROUP_ID] = admins(CAROL)
    await bot_serves_group(bot, chat=THIRD_GROUP)

    await bot.feed(presses(ADMIN, f"stats1:{THIRD_GROUP_ID}:7"))

    [answer] = callback_answers(bot)
    assert answer.text == NOT_AN_OPERATOR
    assert answer.params.get("show_alert") is True
    assert bot.session.of("sendMessage") == []


async def test_stats_when_the_bot_is_not_an_administrator_warn_that_figures_are_partial(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot, status="member")

    await bot.feed(said(ADMIN, "/stats"))

    [reply] = bot.session.texts_to(GROUP_ID)
    assert "Members now:" in reply
    assert PRIVACY_WARNING in reply
