"""/cohorts: retention by join week, in private, for operators only.

The joins, leaves and messages come in as real updates, weeks before the command, so the
figures go through the whole path: memberships, activity, the member-day roll-up and the
cohort aggregate.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    CAROL,
    DAVE,
    GROUP_ID,
    OPERATOR,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    at,
    bot_serves_group,
    callback_answers,
    joins,
    leaves,
    presses,
    said,
    says_privately,
    starts_the_bot,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; the community's zone is UTC


def day(month: int, number: int) -> datetime:
    return datetime(2026, month, number, 12, 0, tzinfo=UTC)


async def four_weeks_of_members(bot: BotHarness) -> None:
    """Week of 16 Feb: Alice and Boris join; both speak that week, Alice again the next.
    Week of 23 Feb: Carol joins and speaks; Dave, who had joined and spoken on 9-10 Feb
    and left, comes back and speaks. Olga was there before anyone saw her join."""
    await bot_serves_group(bot)
    await at(bot, day(2, 9), joins(DAVE, day(2, 9)), said(DAVE, "hello there all", day(2, 10)))
    await at(bot, day(2, 12), leaves(DAVE, day(2, 12)))
    await at(bot, day(2, 16), joins(ALICE, day(2, 16)), said(ALICE, "first week here", day(2, 17)))
    await at(bot, day(2, 18), joins(BORIS, day(2, 18)), said(BORIS, "hello from Boris", day(2, 18)))
    await at(bot, day(2, 20), said(OPERATOR, "morning, everyone", day(2, 20)))
    await at(bot, day(2, 23), joins(CAROL, day(2, 23)), said(ALICE, "second week now", day(2, 24)))
    await at(bot, day(2, 24), joins(DAVE, day(2, 24)))
    await at(bot, day(2, 25), said(CAROL, "hi, I am Carol", day(2, 25)))
    await at(bot, day(2, 25), said(DAVE, "I am back again", day(2, 25)))
    await bot.flush()
    bot.hearth.clock.set(NOW)  # type: ignore[attr-defined]
    bot.session.clear()


def table_rows(report: str) -> dict[str, list[str]]:
    """The rows of the <pre> table by join week: [members, week 0, week 1, …]."""
    table = re.search(r"<pre>(.*)</pre>", report, re.S)
    assert table is not None
    lines = table.group(1).splitlines()
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


async def test_an_operator_gets_the_retention_table_and_heat_map_in_private(
    bot: BotHarness,
) -> None:
    await four_weeks_of_members(bot)

    await bot.feed(says_privately(OPERATOR, "/cohorts 4"))

    [report] = bot.session.texts_to(OPERATOR["id"])
    assert "Retention by join week: Pudong Owners" in report
    assert table_rows(report) == {
        "02-09": ["0*"],  # Dave's first join no longer counts: he came back later
        "02-16": ["2*", "100%", "50%"],  # week 2 is this week: not over, left blank
        "02-23": ["2*", "100%"],  # Dave counts from his return; his February days do not
        "03-02": ["0*"],
    }
    assert "* fewer than 5 members: read with care" in report
    assert "already in the group when I arrived are in no cohort" in report
    [heat_map] = bot.session.of("sendPhoto")
    assert heat_map.chat_id == OPERATOR["id"]
    assert heat_map.params["caption"] == "Pudong Owners: retention of the last 4 join weeks"


async def test_in_the_group_the_answer_goes_to_the_operator_in_private(bot: BotHarness) -> None:
    await four_weeks_of_members(bot)
    await starts_the_bot(bot, ADMIN)
    bot.session.clear()

    await bot.feed(said(ADMIN, "/cohorts"))

    assert bot.session.texts_to(GROUP_ID) == ["I sent it to you in private."]
    [report] = bot.session.texts_to(ADMIN["id"])
    assert len(table_rows(report)) == 8  # eight join weeks by default
    assert [photo.chat_id for photo in bot.session.of("sendPhoto")] == [ADMIN["id"]]


async def test_an_operator_who_never_started_the_bot_is_sent_to_the_private_chat_only(
    bot: BotHarness,
) -> None:
    await four_weeks_of_members(bot)

    await bot.feed(said(ADMIN, "/cohorts"))

    [reply] = bot.session.messages_to(GROUP_ID)
    assert reply.text == (
        "Open a private chat with me first (button below), then send /cohorts again."
    )
    assert reply.button_urls()  # one tap to open the private chat
    assert bot.session.of("sendPhoto") == []


async def test_a_member_asking_for_cohorts_is_refused_and_learns_nothing(bot: BotHarness) -> None:
    await four_weeks_of_members(bot)
    await starts_the_bot(bot, ALICE)
    bot.session.clear()

    await bot.feed(said(ALICE, "/cohorts"))
    await bot.feed(says_privately(ALICE, "/cohorts 4"))

    refusal = "This command is for the community's operators."
    assert bot.session.texts_to(GROUP_ID) == [refusal]
    assert bot.session.texts_to(ALICE["id"]) == [refusal]
    assert bot.session.of("sendPhoto") == []


async def test_a_number_of_weeks_out_of_range_gets_the_usage_and_nothing_else(
    bot: BotHarness,
) -> None:
    await four_weeks_of_members(bot)

    for argument in ("0", "27", "many"):
        await bot.feed(says_privately(OPERATOR, f"/cohorts {argument}"))

    assert (
        bot.session.texts_to(OPERATOR["id"])
        == ["Usage: /cohorts or /cohorts 12 (the last 1 to 26 join weeks)."] * 3
    )
    assert bot.session.of("sendPhoto") == []


async def test_an_operator_of_two_communities_picks_one_and_a_forged_button_is_refused(
    bot: BotHarness,
) -> None:
    await four_weeks_of_members(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    await starts_the_bot(bot, ALICE)
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/cohorts 3"))
    [picker] = bot.session.messages_to(OPERATOR["id"])
    assert sorted(picker.button_data()) == sorted(
        [f"cc1:cohorts_3:{GROUP_ID}", f"cc1:cohorts_3:{OTHER_GROUP_ID}"]
    )

    await bot.feed(presses(OPERATOR, f"cc1:cohorts_3:{GROUP_ID}"))
    report = bot.session.texts_to(OPERATOR["id"])[-1]
    assert list(table_rows(report)) == ["02-16", "02-23", "03-02"]

    await bot.feed(presses(ALICE, f"cc1:cohorts_3:{GROUP_ID}"))  # a member forges the button
    assert callback_answers(bot)[-1].params["text"] == (
        "This command is for the community's operators."
    )
    assert bot.session.texts_to(ALICE["id"]) == []
    assert len(bot.session.of("sendPhoto")) == 1  # the operator's only
