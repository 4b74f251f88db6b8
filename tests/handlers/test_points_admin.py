"""/grant, /deduct, /points_rules and /milestones: operators move points, members notice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hearth.simulate import updates
from hearth.storage import tables
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    CAROL,
    DAVE,
    GROUP,
    GROUP_ID,
    NOW,
    OPERATOR,
    OTHER_GROUP,
    admins,
    at,
    balance,
    bot_serves_group,
    buttons,
    callback_answers,
    community,
    leaves,
    ledger,
    members_of,
    presses,
    recent_lines,
    rows,
    said,
    says_privately,
    starts_the_bot,
)
from tests.telegram import Call

NOT_AN_OPERATOR = "This command is for the community's operators."
STALE = "This button is no longer valid. Please send the command again."
UNKNOWN_MEMBER = "I do not know that member in this community."
BAD_AMOUNT = "The amount must be a whole number from 1 to 100000."
CELEBRATION = "🔥 Alice has checked in 7 days in a row!"


@pytest.fixture
async def group_bot(bot_on_each_backend: BotHarness) -> BotHarness:
    """Adam owns the group; Alice, who started the bot, is a member with no points yet.

    On SQLite and, when configured, on PostgreSQL: the ledger must agree on both.
    """
    bot = bot_on_each_backend
    await bot_serves_group(bot)
    await starts_the_bot(bot, ALICE)
    await members_of(bot, ALICE)
    bot.session.clear()
    return bot


async def asks(bot: BotHarness, person: updates.JsonDict, text: str) -> Call:
    """``person`` sends ``text`` in the group; the bot's one message there."""
    await bot.feed(said(person, text))
    [answer] = bot.session.messages_to(GROUP_ID)
    bot.session.clear()
    return answer


def choice(confirmation: Call, label: str) -> str:
    """The callback data of the Confirm or Cancel button of a confirmation."""
    [data] = [b["callback_data"] for b in buttons(confirmation) if b["text"] == label]
    return data


async def answers(bot: BotHarness, person: updates.JsonDict, data: str) -> None:
    """``person`` presses a button carrying ``data`` under a message in the group."""
    await bot.feed(presses(person, data, chat=GROUP))


def edited(bot: BotHarness) -> list[str]:
    return [call.text for call in bot.session.of("editMessageText")]


async def audit(bot: BotHarness, prefix: str = "points.") -> list[tables.AuditLog]:
    return [row for row in await rows(bot, tables.AuditLog) if row.action.startswith(prefix)]


async def granted(bot: BotHarness, operator: updates.JsonDict, command: str) -> None:
    """``operator`` sends ``command`` in the group and confirms it."""
    confirmation = await asks(bot, operator, command)
    await answers(bot, operator, choice(confirmation, "Confirm"))
    bot.session.clear()


# -- /grant


async def test_grant_by_a_chat_admin_asks_for_confirmation_and_changes_nothing_yet(
    group_bot: BotHarness,
) -> None:
    confirmation = await asks(group_bot, ADMIN, "/grant @alice 50 great photos")

    assert confirmation.text == "Grant 50 points to Alice? Reason: great photos"
    assert [button["text"] for button in buttons(confirmation)] == ["Confirm", "Cancel"]
    assert all(data.startswith("adj1:") for data in confirmation.button_data())
    assert await balance(group_bot, ALICE) == 0
    assert await audit(group_bot) == []


async def test_confirming_a_grant_credits_the_member_audits_it_and_tells_them_privately(
    group_bot: BotHarness,
) -> None:
    confirmation = await asks(group_bot, ADMIN, "/grant @alice 50 great photos")

    await answers(group_bot, ADMIN, choice(confirmation, "Confirm"))

    [answer] = callback_answers(group_bot)
    assert "text" not in answer.params
    [done] = group_bot.session.of("editMessageText")
    assert done.text == "Done: Alice now has 50 points."
    assert done.chat_id == GROUP_ID
    assert await balance(group_bot, ALICE) == 50
    [row] = await audit(group_bot)
    assert (row.action, row.actor_id, row.community_id) == ("points.grant", ADMIN["id"], GROUP_ID)
    assert row.details == {"member_id": ALICE["id"], "amount": 50, "reason": "great photos"}
    assert group_bot.session.texts_to(ALICE["id"]) == [
        "You received 50 points in Pudong Owners: great photos"
    ]


async def test_the_granted_points_show_in_the_members_points_with_the_reason(
    group_bot: BotHarness,
) -> None:
    await granted(group_bot, ADMIN, "/grant @alice 50 great photos")

    await group_bot.feed(says_privately(ALICE, "/points"))

    [summary] = group_bot.session.texts_to(ALICE["id"])
    assert "Balance: 50" in summary
    assert recent_lines(summary) == ["2026-03-02  +50  great photos"]


async def test_pressing_confirm_again_is_no_longer_valid_and_grants_nothing_more(
    group_bot: BotHarness,
) -> None:
    confirmation = await asks(group_bot, ADMIN, "/grant @alice 50 great photos")
    await answers(group_bot, ADMIN, choice(confirmation, "Confirm"))
    group_bot.session.clear()

    await answers(group_bot, ADMIN, choice(confirmation, "Confirm"))

    [answer] = callback_answers(group_bot)
    assert answer.text == STALE
    assert answer.params.get("show_alert") is True
    assert edited(group_bot) == []
    assert await balance(group_bot, ALICE) == 50
    assert len(await audit(group_bot)) == 1
    assert group_bot.session.texts_to(ALICE["id"]) == []


async def test_cancelling_a_grant_changes_nothing_and_its_confirm_button_is_then_stale(
    group_bot: BotHarness,
) -> None:
    confirmation = await asks(group_bot, ADMIN, "/grant @alice 50 great photos")

    await answers(group_bot, ADMIN, choice(confirmation, "Cancel"))
    await answers(group_bot, ADMIN, choice(confirmation, "Confirm"))

    assert edited(group_bot) == ["Cancelled: nothing was changed."]
    assert [answer.text for answer in callback_answers(group_bot)] == ["", STALE]
    assert await balance(group_bot, ALICE) == 0
    assert await ledger(group_bot, ALICE) == []
    assert await audit(group_bot) == []
    assert group_bot.session.texts_to(ALICE["id"]) == []


async def test_the_configured_operator_grants_by_numeric_id(group_bot: BotHarness) -> None:
    confirmation = await asks(group_bot, OPERATOR, f"/grant {ALICE['id']} 20 helpful answer")
    assert confirmation.text == "Grant 20 points to Alice? Reason: helpful answer"

    await answers(group_bot, OPERATOR, choice(confirmation, "Confirm"))

    assert edited(group_bot) == ["Done: Alice now has 20 points."]
    assert await balance(group_bot, ALICE) == 20
    [row] = await audit(group_bot)
    assert row.actor_id == OPERATOR["id"]


async def test_a_confirmation_belongs_to_the_operator_who_asked_for_it(
    group_bot: BotHarness,
) -> None:
    confirmation = await asks(group_bot, ADMIN, "/grant @alice 50 great photos")

    await answers(group_bot, OPERATOR, choice(confirmation, "Confirm"))

    [answer] = callback_answers(group_bot)
    assert answer.text == STALE
    assert await balance(group_bot, ALICE) == 0


# -- /deduct


async def test_deducting_by_numeric_id_takes_the_points_audits_it_and_tells_the_member(
    group_bot: BotHarness,
) -> None:
    await granted(group_bot, ADMIN, "/grant @alice 50 great photos")

    confirmation = await asks(group_bot, ADMIN, f"/deduct {ALICE['id']} 20 spam")
    assert confirmation.text == "Deduct 20 points from Alice? Reason: spam"
    await answers(group_bot, ADMIN, choice(confirmation, "Confirm"))

    assert edited(group_bot) == ["Done: Alice now has 30 points."]
    assert await balance(group_bot, ALICE) == 30
    deduction = (await audit(group_bot))[-1]
    assert deduction.action == "points.deduct"
    assert deduction.details == {"member_id": ALICE["id"], "amount": -20, "reason": "spam"}
    assert group_bot.session.texts_to(ALICE["id"]) == [
        "20 points were deducted in Pudong Owners: spam"
    ]


async def test_deducting_more_than_the_balance_deducts_nothing(group_bot: BotHarness) -> None:
    await granted(group_bot, ADMIN, "/grant @alice 50 great photos")

    confirmation = await asks(group_bot, ADMIN, "/deduct @alice 80 spam")
    assert confirmation.text == "Deduct 80 points from Alice? Reason: spam"
    await answers(group_bot, ADMIN, choice(confirmation, "Confirm"))

    assert edited(group_bot) == ["The member has only 50 points: nothing was deducted."]
    assert await balance(group_bot, ALICE) == 50
    assert [row.action for row in await audit(group_bot)] == ["points.grant"]
    assert group_bot.session.texts_to(ALICE["id"]) == []


async def test_a_deduction_that_found_too_few_points_leaves_no_trace_in_the_members_history(
    group_bot: BotHarness,
) -> None:
    await granted(group_bot, ADMIN, "/grant @alice 50 great photos")
    await granted(group_bot, ADMIN, "/deduct @alice 80 spam")

    await group_bot.feed(says_privately(ALICE, "/points"))

    [summary] = group_bot.session.texts_to(ALICE["id"])
    assert "Balance: 50" in summary
    assert recent_lines(summary) == ["2026-03-02  +50  great photos"]
    assert await ledger(group_bot, ALICE) == [("grant", 50, "great photos")]


# -- who and how much


@pytest.mark.parametrize(
    "target",
    ["@nobody", "@carol", "@dave", "999", "9999999999999999999"],
    ids=[
        "unknown username",
        "member of another community",
        "member who left",
        "unknown id",
        "id beyond any Telegram id",
    ],
)
async def test_grant_to_a_member_unknown_in_this_community_is_refused(
    group_bot: BotHarness, target: str
) -> None:
    await bot_serves_group(group_bot, chat=OTHER_GROUP)
    await members_of(group_bot, CAROL, chat=OTHER_GROUP)
    dave = updates.user(DAVE["id"], "Dave", username="dave")
    await members_of(group_bot, dave)
    await group_bot.feed(leaves(dave))
    group_bot.session.clear()

    reply = await asks(group_bot, ADMIN, f"/grant {target} 50 great photos")

    assert reply.text == UNKNOWN_MEMBER
    assert buttons(reply) == []


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "100001", "99999999999999999999"])
async def test_grant_with_a_bad_amount_answers_the_amount_rule_and_changes_nothing(
    group_bot: BotHarness, amount: str
) -> None:
    reply = await asks(group_bot, ADMIN, f"/grant @alice {amount} great photos")

    assert reply.text == BAD_AMOUNT
    assert buttons(reply) == []
    assert await ledger(group_bot, ALICE) == []


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("/grant @alice 50", "Usage: /grant @username|id amount reason"),
        ("/grant", "Usage: /grant @username|id amount reason"),
        ("/deduct @alice 50", "Usage: /deduct @username|id amount reason"),
    ],
)
async def test_grant_or_deduct_without_a_reason_answers_the_usage(
    group_bot: BotHarness, command: str, usage: str
) -> None:
    reply = await asks(group_bot, ADMIN, command)

    assert reply.text == usage
    assert buttons(reply) == []


# -- who may


async def test_grant_by_a_member_who_is_not_an_operator_is_refused_in_the_group(
    group_bot: BotHarness,
) -> None:
    reply = await asks(group_bot, ALICE, "/grant @alice 50 myself")

    assert reply.text == NOT_AN_OPERATOR
    assert await balance(group_bot, ALICE) == 0


async def test_grant_by_a_member_who_is_not_an_operator_is_refused_in_private(
    group_bot: BotHarness,
) -> None:
    await group_bot.feed(says_privately(ALICE, "/grant @alice 50 myself"))

    assert group_bot.session.texts_to(ALICE["id"]) == [NOT_AN_OPERATOR]
    assert await balance(group_bot, ALICE) == 0


async def test_a_member_pressing_an_operators_confirm_button_is_refused(
    group_bot: BotHarness,
) -> None:
    confirmation = await asks(group_bot, ADMIN, "/grant @alice 50 great photos")

    await answers(group_bot, ALICE, choice(confirmation, "Confirm"))

    [answer] = callback_answers(group_bot)
    assert answer.text == NOT_AN_OPERATOR
    assert answer.params.get("show_alert") is True
    assert edited(group_bot) == []
    assert await balance(group_bot, ALICE) == 0


async def test_a_member_pressing_the_button_first_does_not_spoil_the_operators_confirmation(
    group_bot: BotHarness,
) -> None:
    confirmation = await asks(group_bot, ADMIN, "/grant @alice 50 great photos")
    await answers(group_bot, ALICE, choice(confirmation, "Cancel"))

    await answers(group_bot, ADMIN, choice(confirmation, "Confirm"))

    assert edited(group_bot) == ["Done: Alice now has 50 points."]
    assert await balance(group_bot, ALICE) == 50


@pytest.mark.parametrize("chat", ["group", "private"])
async def test_a_forged_confirm_button_pressed_by_a_member_is_refused(
    group_bot: BotHarness, chat: str
) -> None:
    where = GROUP if chat == "group" else updates.private(ALICE)

    await group_bot.feed(presses(ALICE, "adj1:forged1:1", chat=where))

    [answer] = callback_answers(group_bot)
    assert answer.text == NOT_AN_OPERATOR
    assert await ledger(group_bot, ALICE) == []


async def test_an_operator_of_two_communities_is_told_to_send_grant_in_the_group(
    group_bot: BotHarness,
) -> None:
    await bot_serves_group(group_bot, chat=OTHER_GROUP)  # Adam owns it too

    await group_bot.feed(says_privately(ADMIN, "/grant @alice 50 great photos"))
    await group_bot.feed(says_privately(ADMIN, "/deduct @alice 5 spam"))

    assert group_bot.session.texts_to(ADMIN["id"]) == [
        "Send /grant in the group it is about.",
        "Send /deduct in the group it is about.",
    ]
    assert await ledger(group_bot, ALICE) == []


async def test_an_operator_of_one_community_may_grant_in_private(group_bot: BotHarness) -> None:
    await group_bot.feed(says_privately(ADMIN, "/grant @alice 10 thanks"))
    [confirmation] = group_bot.session.messages_to(ADMIN["id"])
    assert confirmation.text == "Grant 10 points to Alice? Reason: thanks"

    await group_bot.feed(presses(ADMIN, choice(confirmation, "Confirm")))

    assert edited(group_bot) == ["Done: Alice now has 10 points."]
    assert await balance(group_bot, ALICE) == 10


# -- /points_rules


async def test_points_rules_show_every_rule_and_how_to_change_one(group_bot: BotHarness) -> None:
    reply = await asks(group_bot, ADMIN, "/points_rules")

    lines = reply.text.splitlines()
    assert lines[0] == "<b>Points rules</b>"
    for line in ("checkin: 10", "first_checkin_bonus: 20", "expiry_months: 12"):
        assert line in lines
    for line in ("milestone_7: 30", "tier_silver: 500", "tier_gold: 2000"):
        assert line in lines
    assert lines[-1] == "Change one with /points_rules name value, e.g. /points_rules checkin 15"


async def test_changing_the_checkin_rule_makes_the_next_checkin_earn_the_new_amount(
    group_bot: BotHarness,
) -> None:
    reply = await asks(group_bot, ADMIN, "/points_rules checkin 15")
    assert reply.text == "Done: checkin is now 15."

    await group_bot.feed(said(ALICE, "/checkin"))

    [details] = group_bot.session.texts_to(ALICE["id"])
    assert "+35 points (check-in +15, first check-in bonus +20). Balance: 35." in details
    assert await balance(group_bot, ALICE) == 35
    [row] = await audit(group_bot)
    assert (row.action, row.details) == ("points.rule", {"rule": "checkin", "value": 15})


async def test_a_changed_rule_shows_in_the_rules(group_bot: BotHarness) -> None:
    await asks(group_bot, ADMIN, "/points_rules checkin 15")

    reply = await asks(group_bot, ADMIN, "/points_rules")

    assert "checkin: 15" in reply.text.splitlines()


async def test_an_unknown_rule_gets_a_clear_answer(group_bot: BotHarness) -> None:
    reply = await asks(group_bot, ADMIN, "/points_rules glitter 5")

    assert reply.text == "There is no such rule. Send /points_rules to see them all."
    stored = await community(group_bot)
    assert stored is not None
    assert stored.points_rules is None


async def test_a_rule_value_out_of_range_is_refused_and_nothing_changes(
    group_bot: BotHarness,
) -> None:
    reply = await asks(group_bot, ADMIN, "/points_rules expiry_months 500")

    assert reply.text == "That value is out of range for this rule."
    stored = await community(group_bot)
    assert stored is not None
    assert stored.points_rules is None
    assert await audit(group_bot) == []


async def test_points_rules_by_a_member_who_is_not_an_operator_are_refused(
    group_bot: BotHarness,
) -> None:
    reply = await asks(group_bot, ALICE, "/points_rules checkin 1000")

    assert reply.text == NOT_AN_OPERATOR
    stored = await community(group_bot)
    assert stored is not None
    assert stored.points_rules is None


# -- /milestones


async def seven_days_of_checkins(bot: BotHarness) -> None:
    """Alice checks in in the group on seven days in a row, starting today."""
    for day in range(7):
        moment = NOW + timedelta(days=day)
        await at(bot, moment, said(ALICE, "/checkin", moment))


async def test_with_milestones_off_a_seven_day_streak_is_not_celebrated_in_the_group(
    group_bot: BotHarness,
) -> None:
    reply = await asks(group_bot, ADMIN, "/milestones off")
    assert reply.text == "Streaks will no longer be celebrated in the group."

    await seven_days_of_checkins(group_bot)

    assert group_bot.session.texts_to(GROUP_ID) == []
    assert await balance(group_bot, ALICE) == 130  # the streak still earns its points


async def test_with_milestones_back_on_a_seven_day_streak_is_celebrated_in_the_group(
    group_bot: BotHarness,
) -> None:
    await asks(group_bot, ADMIN, "/milestones off")
    reply = await asks(group_bot, ADMIN, "/milestones on")
    assert reply.text == "Streaks of 7 days and more will be celebrated in the group."

    await seven_days_of_checkins(group_bot)

    assert group_bot.session.texts_to(GROUP_ID) == [CELEBRATION]
    [row] = [r for r in await rows(group_bot, tables.AuditLog) if r.action.endswith("announced")]
    assert row.action == "milestones.announced"


async def test_milestones_in_private_are_to_be_sent_in_the_group(group_bot: BotHarness) -> None:
    await group_bot.feed(says_privately(ADMIN, "/milestones off"))

    assert group_bot.session.texts_to(ADMIN["id"]) == ["Send /milestones in the group it is about."]


async def test_milestones_without_on_or_off_answer_the_usage(group_bot: BotHarness) -> None:
    reply = await asks(group_bot, ADMIN, "/milestones maybe")

    assert reply.text == "Usage: /milestones on or /milestones off"


async def test_milestones_by_a_member_who_is_not_an_operator_are_refused(
    group_bot: BotHarness,
) -> None:
    reply = await asks(group_bot, ALICE, "/milestones off")

    assert reply.text == NOT_AN_OPERATOR
    stored = await community(group_bot)
    assert stored is not None
    assert stored.announce_milestones is True


async def test_an_admin_of_another_group_only_is_no_operator_here(bot: BotHarness) -> None:
    bot.session.admins[OTHER_GROUP["id"]] = admins(CAROL)
    await bot_serves_group(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    await members_of(bot, ALICE)
    await members_of(bot, CAROL)
    bot.session.clear()

    reply = await asks(bot, CAROL, "/grant @alice 50 great photos")

    assert reply.text == NOT_AN_OPERATOR
    assert await ledger(bot, ALICE) == []
