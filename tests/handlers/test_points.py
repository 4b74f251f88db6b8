"""/points and /top: what a member reads about their balance, tier, expiring points and rank."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hearth.simulate import updates
from tests.conftest import BotHarness
from tests.handlers.common import (
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
    at,
    bot_serves_group,
    buttons,
    callback_answers,
    credits,
    members_of,
    presses,
    reactions,
    recent_lines,
    said,
    says_privately,
    starts_the_bot,
)

STALE = "This button is no longer valid. Please send the command again."
TOP_USAGE = "Usage: /top, /top week, /top month or /top all"
NO_COMMUNITY = "You are not in any community I serve yet. Join your club's group first."

# NOW is Monday 2 March 2026, 09:00 UTC (17:00 in Shanghai).
WEDNESDAY = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
LAST_SUNDAY = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LAST_MONTH = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)

SHANGHAI_GROUP_ID = -1001000000004
SHANGHAI_GROUP = updates.group(SHANGHAI_GROUP_ID, "Lujiazui Owners")


async def shanghai_community(bot: BotHarness) -> None:
    """A community in Asia/Shanghai (stored before the bot sees it), served by the bot."""
    async with bot.uow() as uow:
        await uow.communities.add(
            SHANGHAI_GROUP_ID, "Lujiazui Owners", timezone="Asia/Shanghai", locale="en", now=NOW
        )
        await uow.commit()
    await bot_serves_group(bot, chat=SHANGHAI_GROUP)


def board_lines(board: str) -> list[str]:
    """The ranked lines of a /top answer (without its title and the member's own line)."""
    return [line for line in board.splitlines()[1:] if not line.startswith("You:")]


# -- /points in private


async def test_points_in_private_show_the_balance_the_tier_and_what_the_next_tier_needs(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await starts_the_bot(bot, ALICE)
    await members_of(bot, ALICE)
    await credits(bot, ALICE, 120)
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/points"))

    [summary] = bot.session.texts_to(ALICE["id"])
    assert summary.splitlines()[:3] == [
        "<b>Your points in Pudong Owners</b>",
        "Balance: 120",
        "Tier: Member — earn 380 more points within 12 months to reach Silver.",
    ]
    assert "expire" not in summary  # nothing expires within 30 days


async def test_points_of_a_silver_member_name_the_points_needed_for_gold(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await members_of(bot, ALICE)
    await credits(bot, ALICE, 600)

    await bot.feed(says_privately(ALICE, "/points"))

    [summary] = bot.session.texts_to(ALICE["id"])
    assert "Balance: 600" in summary
    assert "Tier: Silver — earn 1400 more points within 12 months to reach Gold." in summary


async def test_points_warn_of_points_expiring_within_thirty_days_with_their_date(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await members_of(bot, ALICE)
    # Lots expire at the end of the 12th month after the month they were earned in.
    await credits(bot, ALICE, 40, datetime(2025, 3, 10, 9, 0, tzinfo=UTC))  # → 31 March 2026
    await credits(bot, ALICE, 15, datetime(2025, 5, 5, 9, 0, tzinfo=UTC))  # → 31 May 2026
    bot.session.clear()

    await at(bot, datetime(2026, 3, 10, 9, 0, tzinfo=UTC), says_privately(ALICE, "/points"))

    [summary] = bot.session.texts_to(ALICE["id"])
    assert "Balance: 55" in summary
    assert "⏳ 40 points expire on 2026-03-31." in summary
    assert "15 points expire" not in summary  # more than 30 days away


async def test_points_expire_at_the_end_of_the_month_in_the_communitys_time_zone(
    bot: BotHarness,
) -> None:
    await shanghai_community(bot)
    await starts_the_bot(bot, ALICE)
    # 20:00 UTC on 31 March 2025 is already 1 April in Shanghai: the lots end with April 2026.
    checked_in = datetime(2025, 3, 31, 20, 0, tzinfo=UTC)
    await at(bot, checked_in, updates.message(SHANGHAI_GROUP, ALICE, "/checkin", checked_in))
    bot.session.clear()

    await at(bot, datetime(2026, 4, 10, 9, 0, tzinfo=UTC), says_privately(ALICE, "/points"))

    [summary] = bot.session.texts_to(ALICE["id"])
    assert summary.splitlines()[0] == "<b>Your points in Lujiazui Owners</b>"
    assert "⏳ 10 points expire on 2026-04-30." in summary
    assert "⏳ 20 points expire on 2026-04-30." in summary


async def test_points_list_recent_entries_with_readable_reasons(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    await starts_the_bot(bot, ALICE)
    for day in range(7):  # Monday 2 March to Sunday 8 March
        moment = NOW + timedelta(days=day)
        await at(bot, moment, said(ALICE, "/checkin", moment))
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/points"))

    [summary] = bot.session.texts_to(ALICE["id"])
    assert "Balance: 130" in summary  # 7 × 10 + 20 + 10 + 30
    assert recent_lines(summary) == [
        "2026-03-08  +30  7-day streak",
        "2026-03-08  +10  check-in",
        "2026-03-07  +10  check-in",
        "2026-03-06  +10  check-in",
        "2026-03-05  +10  check-in",
        "2026-03-04  +10  3-day streak",
        "2026-03-04  +10  check-in",
        "2026-03-03  +10  check-in",
        "2026-03-02  +20  first check-in bonus",
        "2026-03-02  +10  check-in",
    ]


async def test_recent_entries_are_dated_by_the_communitys_day(bot: BotHarness) -> None:
    await shanghai_community(bot)
    await starts_the_bot(bot, ALICE)
    # 17:00 UTC on Monday 2 March is 01:00 on Tuesday 3 March in Shanghai.
    checked_in = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    await at(bot, checked_in, updates.message(SHANGHAI_GROUP, ALICE, "/checkin", checked_in))
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/points", checked_in))

    [summary] = bot.session.texts_to(ALICE["id"])
    assert recent_lines(summary) == [
        "2026-03-03  +20  first check-in bonus",
        "2026-03-03  +10  check-in",
    ]


async def test_points_of_someone_in_no_community_say_so(bot: BotHarness) -> None:
    await bot.feed(says_privately(ALICE, "/points"))

    assert bot.session.texts_to(ALICE["id"]) == [NO_COMMUNITY]


# -- /points for a member of two communities


async def alice_in_two_communities(bot: BotHarness) -> None:
    """Alice has 30 points in Pudong Owners and 5 in Jinqiao Riders; Carol runs a third."""
    await bot_serves_group(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    bot.session.admins[THIRD_GROUP_ID] = admins(CAROL)
    await bot_serves_group(bot, chat=THIRD_GROUP)
    await members_of(bot, ALICE)
    await members_of(bot, ALICE, chat=OTHER_GROUP)
    await credits(bot, ALICE, 30)
    await credits(bot, ALICE, 5, community_id=OTHER_GROUP_ID)
    bot.session.clear()


async def test_points_of_a_member_of_two_communities_offer_a_button_per_community(
    bot: BotHarness,
) -> None:
    await alice_in_two_communities(bot)

    await bot.feed(says_privately(ALICE, "/points"))

    [picker] = bot.session.messages_to(ALICE["id"])
    assert picker.text == "Which community?"
    assert {button["text"]: button["callback_data"] for button in buttons(picker)} == {
        "Pudong Owners": f"cc1:points:{GROUP_ID}",
        "Jinqiao Riders": f"cc1:points:{OTHER_GROUP_ID}",
    }


async def test_pressing_a_community_in_the_points_picker_answers_for_that_community(
    bot: BotHarness,
) -> None:
    await alice_in_two_communities(bot)
    await bot.feed(says_privately(ALICE, "/points"))
    [picker] = bot.session.messages_to(ALICE["id"])
    [jinqiao] = [b["callback_data"] for b in buttons(picker) if b["text"] == "Jinqiao Riders"]
    bot.session.clear()

    await bot.feed(presses(ALICE, jinqiao))

    [answer] = callback_answers(bot)
    assert "text" not in answer.params
    [summary] = bot.session.texts_to(ALICE["id"])
    assert summary.splitlines()[:2] == ["<b>Your points in Jinqiao Riders</b>", "Balance: 5"]


async def test_a_forged_points_button_for_a_community_the_member_is_not_in_is_no_longer_valid(
    bot: BotHarness,
) -> None:
    await alice_in_two_communities(bot)

    await bot.feed(presses(ALICE, f"cc1:points:{THIRD_GROUP_ID}"))

    [answer] = callback_answers(bot)
    assert answer.text == STALE
    assert answer.params.get("show_alert") is True
    assert bot.session.of("sendMessage") == []


# -- /points in the group


async def test_points_asked_in_the_group_by_a_member_who_started_the_bot_come_in_private(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await starts_the_bot(bot, ALICE)
    await members_of(bot, ALICE)
    await credits(bot, ALICE, 30)
    bot.session.clear()

    await bot.feed(said(ALICE, "/points", message_id=55))

    assert bot.session.texts_to(GROUP_ID) == []  # nothing from the group's message budget
    [summary] = bot.session.texts_to(ALICE["id"])
    assert summary.splitlines()[:2] == ["<b>Your points in Pudong Owners</b>", "Balance: 30"]
    [reaction] = bot.session.of("setMessageReaction")
    assert (reaction.chat_id, reaction.params["message_id"]) == (GROUP_ID, 55)
    assert reactions(bot) == ["👌"]


async def test_points_asked_in_the_group_by_a_member_who_never_started_the_bot_are_a_reply(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await members_of(bot, CAROL)
    await credits(bot, CAROL, 30)
    bot.session.clear()

    await bot.feed(said(CAROL, "/points", message_id=56))

    [reply] = bot.session.messages_to(GROUP_ID)
    assert reply.text.splitlines()[:2] == ["<b>Your points in Pudong Owners</b>", "Balance: 30"]
    assert reply.params["reply_parameters"]["message_id"] == 56
    assert reply.button_urls() == [f"https://t.me/hearth_test_bot?start=c{GROUP_ID}"]
    assert [button["text"] for button in buttons(reply)] == ["Open Hearth in private"]
    assert bot.session.texts_to(CAROL["id"]) == []
    assert reactions(bot) == []


# -- /top


async def a_month_of_points(bot: BotHarness) -> None:
    """This week: Alice 30, Boris 30, Carol 10. Last Sunday: Dave 50. Last month: Carol 100."""
    await bot_serves_group(bot)
    await members_of(bot, ALICE, BORIS, CAROL, DAVE)
    await credits(bot, ALICE, 30, NOW)
    await credits(bot, BORIS, 30, NOW + timedelta(days=1))
    await credits(bot, CAROL, 10, WEDNESDAY)
    await credits(bot, DAVE, 50, LAST_SUNDAY)
    await credits(bot, CAROL, 100, LAST_MONTH)
    bot.session.clear()


@pytest.mark.parametrize(
    ("command", "title", "ranked"),
    [
        (
            "/top week",
            "<b>Top members — this week</b>",
            ["1. Alice — 30", "1. Boris — 30", "3. Carol — 10"],
        ),
        (
            "/top month",
            "<b>Top members — this month</b>",
            ["1. Dave — 50", "2. Alice — 30", "2. Boris — 30", "4. Carol — 10"],
        ),
        (
            "/top",
            "<b>Top members — this month</b>",
            ["1. Dave — 50", "2. Alice — 30", "2. Boris — 30", "4. Carol — 10"],
        ),
        (
            "/top all",
            "<b>Top members — all time</b>",
            ["1. Carol — 110", "2. Dave — 50", "3. Alice — 30", "3. Boris — 30"],
        ),
    ],
    ids=["week", "month", "month by default", "all time"],
)
async def test_top_in_the_group_ranks_the_points_of_the_period_and_ties_share_a_rank(
    bot: BotHarness, command: str, title: str, ranked: list[str]
) -> None:
    await a_month_of_points(bot)

    await at(bot, WEDNESDAY, said(ALICE, command, WEDNESDAY))

    [board] = bot.session.texts_to(GROUP_ID)
    assert board.splitlines()[0] == title
    assert board_lines(board) == ranked


async def test_top_tells_the_asking_member_their_own_rank(bot: BotHarness) -> None:
    await a_month_of_points(bot)

    await at(bot, WEDNESDAY, said(ALICE, "/top all", WEDNESDAY))

    [board] = bot.session.texts_to(GROUP_ID)
    assert board.splitlines()[-1] == "You: #3 with 30 points."


async def test_top_tells_the_asking_member_their_rank_even_outside_the_top_ten(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    people = [updates.user(200 + n, f"Member{n:02d}") for n in range(1, 13)]
    await members_of(bot, *people)
    for n, person in enumerate(people, start=1):
        await credits(bot, person, 130 - 10 * n)  # Member01: 120 … Member12: 10
    bot.session.clear()

    await bot.feed(said(people[-1], "/top"))

    [board] = bot.session.texts_to(GROUP_ID)
    assert board_lines(board) == [f"{n}. Member{n:02d} — {130 - 10 * n}" for n in range(1, 11)]
    assert board.splitlines()[-1] == "You: #12 with 10 points."


async def test_top_for_a_member_without_points_shows_no_rank_of_theirs(bot: BotHarness) -> None:
    await a_month_of_points(bot)

    await at(bot, WEDNESDAY, said(updates.user(150, "Newbie"), "/top week", WEDNESDAY))

    [board] = bot.session.texts_to(GROUP_ID)
    assert "You:" not in board


async def test_top_when_nobody_earned_points_yet_says_so(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(said(ALICE, "/top week"))

    assert bot.session.texts_to(GROUP_ID) == [
        "<b>Top members — this week</b>\nNo points earned in this period yet."
    ]


async def test_top_with_a_period_it_does_not_know_answers_the_usage(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(said(ALICE, "/top year"))

    assert bot.session.texts_to(GROUP_ID) == [TOP_USAGE]


async def test_the_week_of_top_week_starts_on_monday_in_the_communitys_time_zone(
    bot: BotHarness,
) -> None:
    await shanghai_community(bot)
    await members_of(bot, ALICE, CAROL, chat=SHANGHAI_GROUP)
    shanghai = {"community_id": SHANGHAI_GROUP_ID, "timezone": "Asia/Shanghai"}
    # Both on Sunday 1 March in UTC; in Shanghai, Alice's is already Monday 01:00.
    await credits(bot, ALICE, 20, datetime(2026, 3, 1, 17, 0, tzinfo=UTC), **shanghai)
    await credits(bot, CAROL, 40, datetime(2026, 3, 1, 15, 0, tzinfo=UTC), **shanghai)
    bot.session.clear()

    await at(bot, NOW, updates.message(SHANGHAI_GROUP, CAROL, "/top week", NOW))

    [board] = bot.session.texts_to(SHANGHAI_GROUP_ID)
    assert board.splitlines() == ["<b>Top members — this week</b>", "1. Alice — 20"]
    # Carol's 40 came at 23:00 on Sunday in Shanghai: last week, so she has no rank.


async def test_top_in_private_for_a_member_of_two_communities_answers_the_one_picked(
    bot: BotHarness,
) -> None:
    await alice_in_two_communities(bot)
    await members_of(bot, BORIS, chat=OTHER_GROUP)
    await credits(bot, BORIS, 8, community_id=OTHER_GROUP_ID)
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/top week"))
    [picker] = bot.session.messages_to(ALICE["id"])
    [jinqiao] = [b["callback_data"] for b in buttons(picker) if b["text"] == "Jinqiao Riders"]
    assert jinqiao == f"cc1:top_week:{OTHER_GROUP_ID}"
    bot.session.clear()
    await bot.feed(presses(ALICE, jinqiao))

    [board] = bot.session.texts_to(ALICE["id"])
    assert board.splitlines() == [
        "<b>Top members — this week</b>",
        "1. Boris — 8",
        "2. Alice — 5",
        "You: #2 with 5 points.",
    ]
    assert bot.session.texts_to(GROUP_ID) == []
