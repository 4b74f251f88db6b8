"""/segments and its buttons: members per stage and segment as the nightly recompute stored
them, lists a page at a time, a list as a file, always in private, never for non-operators."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from hearth.domain.lifecycle import LifecycleRules
from hearth.services.engagement_recompute import Recomputed, recompute
from hearth.simulate import updates
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    CAROL,
    DAVE,
    GROUP_ID,
    NOW,
    OPERATOR,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    admins,
    at,
    bot_serves_group,
    buttons,
    callback_answers,
    credits,
    leaves,
    member,
    presses,
    said,
    says_privately,
    starts_the_bot,
)
from tests.telegram import Call, Failure
from tests.telegram_html import MESSAGE_LIMIT, html_problem, shown_length

BORIS = updates.user(102, "Boris", username="boris")
NOT_AN_OPERATOR = "This command is for the community's operators."
STALE = "This button is no longer valid. Please send the command again."
TODAY = NOW.date()


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


async def speaks(bot: BotHarness, person: updates.JsonDict, days: range) -> None:
    """``person`` says hi in the group on each of these days ago."""
    for back in sorted(days, reverse=True):
        await at(bot, days_ago(back), said(person, "hi", days_ago(back)))


async def recomputed(bot: BotHarness) -> Recomputed:
    """The nightly recompute, run for today."""
    async with bot.uow() as uow:
        community = await uow.communities.get(GROUP_ID)
        result = await recompute(uow, community, TODAY, LifecycleRules())
        await uow.commit()
    return result


async def club(bot: BotHarness) -> Recomputed:
    """Adam owns the group (he added the bot today: new, lost) and started the bot. Alice is
    active every day for 70 days and earned 120 points (mature, loyal, high value); Boris
    joined 5 days ago (new, promising); Carol went quiet 50 days ago (dormant, at risk);
    Dave left 10 days ago (churned). Then the nightly recompute runs."""
    await bot_serves_group(bot)
    await starts_the_bot(bot, ADMIN)
    await speaks(bot, ALICE, range(0, 71))
    await speaks(bot, BORIS, range(0, 6))
    await speaks(bot, CAROL, range(50, 71))
    await speaks(bot, DAVE, range(60, 71))
    await at(bot, days_ago(10), leaves(DAVE, days_ago(10)))
    await bot.flush()
    await credits(bot, ALICE, 120, days_ago(1))
    result = await recomputed(bot)
    bot.hearth.clock.set(NOW)  # type: ignore[attr-defined]
    bot.session.clear()
    return result


def only_message(bot: BotHarness, chat_id: int) -> Call:
    [message] = bot.session.messages_to(chat_id)
    return message


def button_for(call: Call, label: str) -> str:
    [data] = [button["callback_data"] for button in buttons(call) if button["text"] == label]
    return data


def edited(bot: BotHarness) -> Call:
    [edit] = bot.session.of("editMessageText")
    return edit


def nothing_shown(bot: BotHarness) -> bool:
    """No message, edit or file went out (a refusal is a reply or an alert)."""
    return not any(
        bot.session.of(method) for method in ("editMessageText", "sendDocument")
    ) and all(NOT_AN_OPERATOR in call.text for call in bot.session.of("sendMessage"))


# -- the overview


async def test_segments_before_any_recompute_say_so_and_when_it_runs(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(says_privately(OPERATOR, "/segments"))

    overview = only_message(bot, OPERATOR["id"])
    assert overview.text.splitlines()[0] == "<b>Segments of Pudong Owners</b>"
    assert "have not been computed yet" in overview.text
    assert "every night" in overview.text
    assert buttons(overview) == []


async def test_segments_show_members_per_stage_and_segment_as_the_recompute_stored_them(
    bot: BotHarness,
) -> None:
    result = await club(bot)

    await bot.feed(says_privately(OPERATOR, "/segments"))

    overview = only_message(bot, OPERATOR["id"])
    lines = overview.text.splitlines()
    assert "Computed on 2026-03-02; recomputed every night." in lines
    stage_lines = lines[lines.index("<b>Lifecycle stages</b>") + 1 :][:6]
    assert stage_lines == [
        "New: 2",
        "Growing: 0",
        "Mature: 1",
        "Declining: 0",
        "Dormant: 1",
        "Churned: 1",
    ]
    segment_lines = lines[lines.index("<b>RFM segments</b> (current members)") + 1 :][:9]
    assert segment_lines == [
        "Champions: 0",
        "Loyal: 1",
        "Promising: 1",
        "Newcomers: 0",
        "Needs attention: 0",
        "At risk: 1",
        "Can't lose: 0",
        "Hibernating: 0",
        "Lost: 1",
    ]
    assert {stage.value: count for stage, count in result.stages.items()} == {
        "new": 2,
        "mature": 1,
        "dormant": 1,
        "churned": 1,
    }
    assert "⭐ High value (top 20% by value): 1" in lines
    assert [button["text"] for button in buttons(overview)] == [
        "New (2)",
        "Mature (1)",
        "Dormant (1)",
        "Churned (1)",
        "Loyal (1)",
        "Promising (1)",
        "At risk (1)",
        "Lost (1)",
    ]


async def test_segments_in_the_group_come_in_private_and_the_group_hears_only_where(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(said(ADMIN, "/segments"))

    [in_group] = bot.session.texts_to(GROUP_ID)
    assert in_group == "I sent it to you in private."
    overview = only_message(bot, ADMIN["id"])
    assert "Mature: 1" in overview.text
    assert "Mature (1)" in [button["text"] for button in buttons(overview)]


async def test_segments_in_the_group_by_an_operator_the_bot_cannot_write_to_shows_how_to_start(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(said(OPERATOR, "/segments"))

    [in_group] = bot.session.messages_to(GROUP_ID)
    assert in_group.text.startswith("Open a private chat with me first")
    assert in_group.button_urls()  # the one-tap deep link
    assert "Mature" not in in_group.text
    assert bot.session.messages_to(OPERATOR["id"]) == []


async def test_segments_in_the_group_by_an_operator_who_blocked_the_bot_show_how_to_start(
    bot: BotHarness,
) -> None:
    await club(bot)
    bot.session.fail("sendMessage", ADMIN["id"], Failure(403, "Forbidden: bot was blocked"))

    await bot.feed(said(ADMIN, "/segments"))

    [in_group] = bot.session.messages_to(GROUP_ID)
    assert in_group.text.startswith("Open a private chat with me first")
    adam = await member(bot, ADMIN["id"])
    assert adam is not None
    assert not adam.reachable


async def test_an_operator_of_two_communities_picks_one_and_sees_its_segments(
    bot: BotHarness,
) -> None:
    await club(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    await bot.feed(said(ADMIN, "hi"))  # Adam is a member of both groups
    await bot.feed(updates.message(OTHER_GROUP, ADMIN, "hi", NOW))
    bot.session.clear()

    await bot.feed(says_privately(ADMIN, "/segments"))

    picker = only_message(bot, ADMIN["id"])
    assert picker.text == "Which community?"
    assert picker.button_data() == [f"sgo1:{OTHER_GROUP_ID}", f"sgo1:{GROUP_ID}"]
    bot.session.clear()

    await bot.feed(presses(ADMIN, f"sgo1:{GROUP_ID}"))

    assert "Mature: 1" in edited(bot).text


# -- lists


async def test_a_stage_button_lists_its_members_with_username_tier_activity_and_value(
    bot: BotHarness,
) -> None:
    await club(bot)
    await bot.feed(says_privately(OPERATOR, "/segments"))
    overview = only_message(bot, OPERATOR["id"])
    bot.session.clear()

    await bot.feed(presses(OPERATOR, button_for(overview, "Mature (1)")))

    page = edited(bot)
    assert page.text.splitlines() == [
        "<b>Pudong Owners</b> — Stage: Mature: 1 member",
        "1. Alice @alice — Member · active today ⭐",
        "",
        "Page 1 of 1 · ⭐ high value · as of 2026-03-02",
    ]
    assert [button["text"] for button in buttons(page)] == ["⬇ CSV file", "« Segments"]


async def test_a_segment_list_shows_when_each_member_was_last_active(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(presses(OPERATOR, f"sgl1:{GROUP_ID}:g:at_risk:0"))

    assert "1. Carol @carol — Member · active 50 days ago" in edited(bot).text


async def test_the_churned_list_marks_members_who_left(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(presses(OPERATOR, f"sgl1:{GROUP_ID}:s:churned:0"))

    assert "1. Dave Lee — Member · active 60 days ago · left" in edited(bot).text


async def newcomers_listed(bot: BotHarness, newcomers: list[updates.JsonDict]) -> None:
    """The bot comes (Adam, who added it, is new too), the newcomers say hi, the nightly
    recompute runs, and the operator opens the first page of the new members."""
    await bot_serves_group(bot)
    for person in newcomers:
        await bot.feed(said(person, "hi"))
    await bot.flush()
    await recomputed(bot)
    bot.session.clear()
    await bot.feed(presses(OPERATOR, f"sgl1:{GROUP_ID}:s:new:0"))


async def test_a_long_list_comes_twenty_a_page_with_buttons_back_and_forth(
    bot: BotHarness,
) -> None:
    await newcomers_listed(bot, [updates.user(1000 + n, f"New{n:02d}") for n in range(25)])

    first = edited(bot)
    assert first.text.splitlines()[0] == "<b>Pudong Owners</b> — Stage: New: 26 members"
    assert first.text.splitlines()[1].startswith("1. Adam @adam — ")
    assert first.text.splitlines()[20].startswith("20. New18 — ")
    assert "Page 1 of 2" in first.text
    assert [button["text"] for button in buttons(first)] == ["▶", "⬇ CSV file", "« Segments"]
    bot.session.clear()

    await bot.feed(presses(OPERATOR, button_for(first, "▶")))

    second = edited(bot)
    listed = second.text.splitlines()[1:-2]
    assert [line.split(" — ")[0] for line in listed] == [
        f"{21 + n}. New{19 + n:02d}" for n in range(6)
    ]
    assert "Page 2 of 2" in second.text
    assert [button["text"] for button in buttons(second)] == ["◀", "⬇ CSV file", "« Segments"]


async def test_a_page_of_long_and_html_like_names_is_valid_and_within_telegrams_limit(
    bot: BotHarness,
) -> None:
    # Telegram's longest names (64 characters each, emoji count twice) and usernames
    newcomers = [
        updates.user(
            1000 + n,
            f"<b>{n:02d}</b> & " + "🚗" * 53,
            last_name="&" * 64,
            username=f"u{n:02d}" + "x" * 29,
        )
        for n in range(25)
    ]
    await newcomers_listed(bot, newcomers)

    page = edited(bot).text
    assert html_problem(page) is None
    assert shown_length(page) <= MESSAGE_LIMIT
    lines = page.splitlines()
    assert lines[2].startswith("2. &lt;b&gt;00&lt;/b&gt; &amp; 🚗")
    assert "🚗…" in lines[2]
    assert " @u00xxxxx" in lines[2]


async def test_an_old_page_button_past_the_end_shows_the_last_page(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(presses(OPERATOR, f"sgl1:{GROUP_ID}:s:mature:7"))

    assert "Page 1 of 1" in edited(bot).text


async def test_the_file_button_sends_the_list_as_csv_in_private(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(presses(OPERATOR, f"sgx1:{GROUP_ID}:s:dormant"))

    [document] = bot.session.of("sendDocument")
    assert document.chat_id == OPERATOR["id"]
    assert document.params["caption"] == "Pudong Owners — Stage: Dormant: 1 member"
    content = document.uploads["document"]
    assert content.startswith(b"\xef\xbb\xbf")
    [row] = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    assert (row["member_id"], row["name"], row["stage"]) == (str(CAROL["id"]), "Carol", "dormant")
    assert row["last_active_day"] == "2026-01-11"


async def test_the_back_button_shows_the_overview_again(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(presses(OPERATOR, f"sgo1:{GROUP_ID}"))

    assert "Mature: 1" in edited(bot).text


# -- refusals


async def test_a_member_is_refused_segments_in_the_group_and_in_private(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(said(ALICE, "/segments"))
    await bot.feed(says_privately(ALICE, "/segments"))

    assert bot.session.texts_to(GROUP_ID) == [NOT_AN_OPERATOR]
    assert bot.session.texts_to(ALICE["id"]) == [NOT_AN_OPERATOR]
    assert nothing_shown(bot)


async def test_a_member_pressing_any_segments_button_is_refused_and_sees_nothing(
    bot: BotHarness,
) -> None:
    await club(bot)

    for data in (
        f"sgo1:{GROUP_ID}",
        f"sgl1:{GROUP_ID}:s:mature:0",
        f"sgx1:{GROUP_ID}:s:mature",
    ):
        await bot.feed(presses(ALICE, data))

    assert [answer.text for answer in callback_answers(bot)] == [NOT_AN_OPERATOR] * 3
    assert nothing_shown(bot)
    assert bot.session.of("sendMessage") == []


async def test_an_operator_pressing_a_forged_button_of_another_community_is_refused(
    bot: BotHarness,
) -> None:
    await club(bot)
    bot.session.admins[OTHER_GROUP_ID] = admins(CAROL)
    await bot_serves_group(bot, chat=OTHER_GROUP)  # Carol's group, not Adam's

    for data in (
        f"sgo1:{OTHER_GROUP_ID}",
        f"sgl1:{OTHER_GROUP_ID}:s:mature:0",
        f"sgx1:{OTHER_GROUP_ID}:s:mature",
    ):
        await bot.feed(presses(ADMIN, data))

    assert [answer.text for answer in callback_answers(bot)] == [NOT_AN_OPERATOR] * 3
    assert nothing_shown(bot)


async def test_a_button_naming_no_stage_or_segment_is_stale_and_shows_nothing(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(presses(OPERATOR, f"sgl1:{GROUP_ID}:g:nonsense:0"))
    await bot.feed(presses(OPERATOR, f"sgl1:{GROUP_ID}:z:mature:0"))

    assert [answer.text for answer in callback_answers(bot)] == [STALE, STALE]
    assert nothing_shown(bot)


async def test_a_segments_button_under_a_group_message_is_never_answered_there(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(presses(ADMIN, f"sgl1:{GROUP_ID}:s:mature:0", chat=updates.group(GROUP_ID)))

    [answer] = callback_answers(bot)
    assert answer.text == STALE
    assert nothing_shown(bot)
