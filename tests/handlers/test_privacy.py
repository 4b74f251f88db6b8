"""/forget_me and /forget through the real dispatcher: the member is told what goes and what
stays, confirms with a button, and afterwards their name, username, birthday, tags and
comments are gone while every figure reads the same. Operators can do it on request;
nobody else can, and nobody else learns anything."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import update

from hearth.domain.nudges import Decision, NudgeKind, NudgePreference, NudgeStatus, QuietHours
from hearth.storage import tables
from hearth.storage.engagement import MembershipStageRow
from hearth.storage.events import AttendanceRow, FeedbackRow
from hearth.storage.greetings import GreetingOptIn, MemberBirthday
from hearth.storage.nudges import NudgePreferenceRow, NudgeRow
from hearth.storage.outbox import OutboxRow
from hearth.storage.tags import MemberTagRow
from tests.conftest import BotHarness, make_harness
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
    admins,
    balance,
    bot_serves_group,
    buttons,
    callback_answers,
    leaves,
    ledger,
    members_of,
    presses,
    rows,
    said,
    says_privately,
    starts_the_bot,
    stored_strings,
)
from tests.handlers.test_member_card import EVE, alice_takes_part, recomputed
from tests.telegram import Call

NOT_AN_OPERATOR = "This command is for the community's operators."
UNKNOWN_MEMBER = "I do not know that member in this community."
STALE = "This button is no longer valid. Please send the command again."
DONE = "Done: your personal data is erased. You now appear as “Former member”."
# What only Alice ever said or was called: none of it may remain once she is forgotten.
ALICES_WORDS = ("Alice", "alice", "Loved it", "05-17")


@pytest.fixture
async def bot(sqlite_url: str, clock: Any) -> AsyncIterator[BotHarness]:
    """Alice has a month of history in Adam's group (see ``alice_takes_part``); Boris and Eve
    are members there too; Dave owns another group, where Carol is."""
    harness = await make_harness(sqlite_url, clock, operator_ids="7", welcome_batch_seconds=0)
    harness.session.admins[OTHER_GROUP_ID] = admins(DAVE)
    await bot_serves_group(harness)
    await bot_serves_group(harness, chat=OTHER_GROUP)
    await starts_the_bot(harness, ADMIN, DAVE)
    await alice_takes_part(harness)
    await members_of(harness, BORIS, EVE)
    await members_of(harness, CAROL, chat=OTHER_GROUP)
    await recomputed(harness, NOW.date())
    async with harness.uow() as uow:  # an interest the recompute would find: her quiz topic
        await uow.session.execute(update(MembershipStageRow).values(tags=["engines"]))
        await uow.commit()
    harness.session.clear()
    yield harness
    await harness.hearth.on_shutdown()


@dataclass(frozen=True)
class Figures:
    """What every report, board and total is built from, for one member."""

    balance: int
    ledger: list[tuple[str, int, str]]
    ledger_sum: int
    activity: dict[str, int]
    attended: int
    ratings: list[tuple[int | None, int | None]]


async def figures(bot: BotHarness, person: dict[str, Any]) -> Figures:
    member_id = int(person["id"])
    activity: dict[str, int] = {}
    for row in await rows(bot, tables.Activity):
        if row.member_id == member_id:
            activity[row.kind] = activity.get(row.kind, 0) + 1
    async with bot.uow() as uow:
        ledger_sum = await uow.points.ledger_sum(GROUP_ID, member_id)
    return Figures(
        balance=await balance(bot, person),
        ledger=await ledger(bot, person),
        ledger_sum=ledger_sum,
        activity=activity,
        attended=len([r for r in await rows(bot, AttendanceRow) if r.member_id == member_id]),
        ratings=[
            (r.rating, r.recommend)
            for r in await rows(bot, FeedbackRow)
            if r.member_id == member_id
        ],
    )


async def stored_member(bot: BotHarness, member_id: int) -> tables.Member:
    [row] = [row for row in await rows(bot, tables.Member) if row.id == member_id]
    return row


async def asks_to_forget(bot: BotHarness, person: dict[str, Any], text: str) -> Call:
    """``person`` sends ``text`` in private; the bot's one answer, with its buttons."""
    await bot.feed(says_privately(person, text))
    [answer] = bot.session.messages_to(person["id"])
    bot.session.clear()
    return answer


def choice(confirmation: Call, label: str) -> str:
    [data] = [b["callback_data"] for b in buttons(confirmation) if b["text"] == label]
    return data


def alices_traces(strings: list[str]) -> list[str]:
    return [text for text in strings if any(word in text for word in ALICES_WORDS)]


# -- /forget_me


async def test_forget_me_says_what_is_erased_and_kept_and_changes_nothing_yet(
    bot: BotHarness,
) -> None:
    before = await figures(bot, ALICE)

    question = await asks_to_forget(bot, ALICE, "/forget_me")

    text = question.text
    assert text.startswith("<b>Erase your personal data?</b>")
    for promise in (
        "your first and last name (you will appear as “Former member”), your username",
        "your birthday",
        "your written comments on events (your ratings stay",
        "the text of the messages I already sent you",
        "I keep, without your name: your points and their history",
        "I never store messages",
        "If you keep taking part afterwards",
        "I will store it again",
    ):
        assert promise in text
    assert [button["text"] for button in buttons(question)] == ["Erase my data", "Keep my data"]
    assert all(data.startswith("fme1:") for data in question.button_data())
    assert (await stored_member(bot, ALICE["id"])).first_name == "Alice"
    assert await figures(bot, ALICE) == before


async def test_confirming_forget_me_erases_the_personal_data_and_every_figure_stays(
    bot: BotHarness,
) -> None:
    before = await figures(bot, ALICE)
    stored = await stored_strings(bot)
    assert alices_traces(stored)  # her name, comment and birthday are there …
    assert not [text for text in stored if "hello all" in text]  # … what she wrote never was
    question = await asks_to_forget(bot, ALICE, "/forget_me")

    await bot.feed(presses(ALICE, choice(question, "Erase my data")))

    [done] = bot.session.of("editMessageText")
    assert done.text == DONE
    member = await stored_member(bot, ALICE["id"])
    assert (member.first_name, member.last_name, member.username, member.language_code) == (
        "Former member",
        None,
        None,
        None,
    )
    assert member.forgotten_at == NOW
    assert [r for r in await rows(bot, MemberBirthday) if r.member_id == ALICE["id"]] == []
    assert [r for r in await rows(bot, GreetingOptIn) if r.member_id == ALICE["id"]] == []
    assert [r for r in await rows(bot, MemberTagRow) if r.member_id == ALICE["id"]] == []
    stages = [r for r in await rows(bot, MembershipStageRow) if r.member_id == ALICE["id"]]
    assert stages
    assert all(r.tags == [] for r in stages)
    [feedback] = [r for r in await rows(bot, FeedbackRow) if r.member_id == ALICE["id"]]
    assert (feedback.rating, feedback.recommend, feedback.comment) == (5, 9, None)
    sent = [r for r in await rows(bot, OutboxRow) if r.member_id == ALICE["id"]]
    assert sent
    assert all(json.loads(r.payload) == {} for r in sent)
    after = await figures(bot, ALICE)
    assert after == before
    assert after.balance == after.ledger_sum > 0
    assert alices_traces(await stored_strings(bot)) == []
    [audit] = [r for r in await rows(bot, tables.AuditLog) if r.action == "privacy.forget"]
    assert (audit.actor_id, audit.community_id) == (ALICE["id"], None)
    assert audit.details["member_id"] == ALICE["id"]
    assert audit.details["requested_by"] == "member"


async def test_forget_me_erases_the_members_nudge_choice_and_the_nudges_they_got(
    bot: BotHarness,
) -> None:
    async with bot.uow() as uow:
        for person in (ALICE, BORIS):
            member_id = int(person["id"])
            quiet = NudgePreference(False, QuietHours(22, 8))
            await uow.nudges.set_preference(member_id, quiet, NOW)
            nudge = Decision(member_id, NOW.date(), NudgeStatus.PLANNED, 1, NudgeKind.LIGHT, NOW)
            await uow.nudges.record(GROUP_ID, NOW.date(), [nudge], NOW)
        await uow.commit()
    question = await asks_to_forget(bot, ALICE, "/forget_me")
    assert (
        "• your nudge settings (on or off, quiet hours) and the record of the nudges I sent you;"
        in question.text.splitlines()
    )

    await bot.feed(presses(ALICE, choice(question, "Erase my data")))

    assert [row.member_id for row in await rows(bot, NudgePreferenceRow)] == [BORIS["id"]]
    assert [row.member_id for row in await rows(bot, NudgeRow)] == [BORIS["id"]]
    [audit] = [r for r in await rows(bot, tables.AuditLog) if r.action == "privacy.forget"]
    assert (audit.details["nudge_preference"], audit.details["nudges"]) == (1, 1)


async def test_keeping_my_data_changes_nothing(bot: BotHarness) -> None:
    question = await asks_to_forget(bot, ALICE, "/forget_me")

    await bot.feed(presses(ALICE, choice(question, "Keep my data")))

    [kept] = bot.session.of("editMessageText")
    assert kept.text == "Nothing was erased."
    assert (await stored_member(bot, ALICE["id"])).username == "alice"
    # The used question is spent: its Erase button now erases nothing.
    bot.session.clear()
    await bot.feed(presses(ALICE, choice(question, "Erase my data")))
    [stale] = callback_answers(bot)
    assert stale.params["text"] == STALE
    assert (await stored_member(bot, ALICE["id"])).first_name == "Alice"


async def test_a_forged_or_someone_elses_forget_me_button_erases_nothing(
    bot: BotHarness,
) -> None:
    question = await asks_to_forget(bot, ALICE, "/forget_me")
    erase = choice(question, "Erase my data")

    await bot.feed(presses(EVE, erase))  # Eve copied Alice's button
    await bot.feed(presses(ALICE, "fme1:AAAAAAAA:1"))  # a nonce the bot never made

    assert [answer.params["text"] for answer in callback_answers(bot)] == [STALE, STALE]
    assert (await stored_member(bot, ALICE["id"])).first_name == "Alice"
    assert (await stored_member(bot, EVE["id"])).first_name == "Eve"


async def test_forget_me_in_the_group_points_to_the_private_chat(bot: BotHarness) -> None:
    await bot.feed(said(ALICE, "/forget_me"))

    [answer] = bot.session.messages_to(GROUP_ID)
    assert answer.text == "To erase your personal data, send /forget_me to me in private."
    assert answer.button_urls()
    assert (await stored_member(bot, ALICE["id"])).first_name == "Alice"


async def test_the_card_of_a_forgotten_member_shows_only_the_anonymous_name(
    bot: BotHarness,
) -> None:
    question = await asks_to_forget(bot, ALICE, "/forget_me")
    await bot.feed(presses(ALICE, choice(question, "Erase my data")))
    bot.session.clear()

    await bot.feed(says_privately(ADMIN, f"/member {ALICE['id']}"))

    [card] = bot.session.texts_to(ADMIN["id"])
    lines = card.splitlines()
    assert lines[0] == f"<b>Former member</b> · id <code>{ALICE['id']}</code>"
    assert "🕳 Erased their personal data at their request." in lines
    assert "Tags: —" in lines  # neither the operators' "vip" nor "engines" is left
    assert "Events: 1 registered, 1 attended; last: Spring drive (2026-02-25)" in lines


async def test_using_the_bot_again_after_forget_me_stores_the_name_again(
    bot: BotHarness,
) -> None:
    question = await asks_to_forget(bot, ALICE, "/forget_me")
    await bot.feed(presses(ALICE, choice(question, "Erase my data")))

    await bot.feed(says_privately(ALICE, "/points"))

    # As the explanation promised: Telegram tells the bot her name with every command.
    member = await stored_member(bot, ALICE["id"])
    assert (member.first_name, member.username) == ("Alice", "alice")
    assert member.forgotten_at is None  # stored afresh: lists and exports show her again


# -- /forget, by an operator


async def test_an_operator_forgets_a_member_on_request_and_the_member_is_not_told(
    bot: BotHarness,
) -> None:
    before = await figures(bot, ALICE)
    question = await asks_to_forget(bot, ADMIN, "/forget @alice")
    assert question.text.startswith("Erase the personal data of Alice at their request?")
    assert "They are not told." in question.text
    assert [button["text"] for button in buttons(question)] == ["Erase", "Cancel"]

    await bot.feed(presses(ADMIN, choice(question, "Erase")))

    [done] = bot.session.of("editMessageText")
    assert done.text == "Done: Alice's personal data is erased; they now appear as “Former member”."
    assert bot.session.messages_to(ALICE["id"]) == []
    member = await stored_member(bot, ALICE["id"])
    assert (member.first_name, member.username) == ("Former member", None)
    assert await figures(bot, ALICE) == before
    [audit] = [r for r in await rows(bot, tables.AuditLog) if r.action == "privacy.forget"]
    assert (audit.actor_id, audit.community_id) == (ADMIN["id"], GROUP_ID)
    assert audit.details["requested_by"] == "operator"
    assert "Alice" not in json.dumps(audit.details)


async def test_an_operator_forgets_a_member_who_has_left_the_group(bot: BotHarness) -> None:
    await bot.feed(leaves(ALICE, NOW))
    bot.session.clear()
    question = await asks_to_forget(bot, ADMIN, "/forget @alice")
    assert question.text.startswith("Erase the personal data of Alice at their request?")

    await bot.feed(presses(ADMIN, choice(question, "Erase")))

    [done] = bot.session.of("editMessageText")
    assert done.text.startswith("Done: Alice's personal data is erased")
    member = await stored_member(bot, ALICE["id"])
    assert (member.first_name, member.username) == ("Former member", None)


async def test_an_operator_cancelling_forget_erases_nothing(bot: BotHarness) -> None:
    question = await asks_to_forget(bot, ADMIN, "/forget 101")

    await bot.feed(presses(ADMIN, choice(question, "Cancel")))

    [cancelled] = bot.session.of("editMessageText")
    assert cancelled.text == "Cancelled: nothing was erased."
    assert (await stored_member(bot, ALICE["id"])).username == "alice"


async def test_forget_needs_a_member_and_is_sent_in_private(bot: BotHarness) -> None:
    usage = await asks_to_forget(bot, ADMIN, "/forget")
    assert usage.text == (
        "Usage: /forget @username|id — erases a member's personal data at their request"
    )

    await bot.feed(said(ADMIN, "/forget @alice"))
    assert bot.session.texts_to(GROUP_ID) == [
        "Send /forget to me in private: it is about one member's personal data."
    ]
    assert (await stored_member(bot, ALICE["id"])).username == "alice"


async def test_an_operator_of_another_community_cannot_forget_the_member(
    bot: BotHarness,
) -> None:
    answer = await asks_to_forget(bot, DAVE, "/forget @alice")

    assert answer.text == UNKNOWN_MEMBER
    assert buttons(answer) == []
    assert (await stored_member(bot, ALICE["id"])).username == "alice"


async def test_a_member_trying_forget_is_refused_and_learns_nothing(bot: BotHarness) -> None:
    for text in ("/forget @alice", "/forget @nobody", "/forget"):
        await bot.feed(says_privately(EVE, text))
        await bot.feed(said(EVE, text))
    await bot.feed(presses(EVE, "fgt1:AAAAAAAA:1"))

    assert set(bot.session.texts_to(EVE["id"])) == {NOT_AN_OPERATOR}
    assert set(bot.session.texts_to(GROUP_ID)) == {NOT_AN_OPERATOR}
    [refusal] = callback_answers(bot)
    assert refusal.params["text"] == NOT_AN_OPERATOR
    assert (await stored_member(bot, ALICE["id"])).username == "alice"
    assert [r for r in await rows(bot, tables.AuditLog) if r.action == "privacy.forget"] == []


async def test_an_operator_who_lost_the_rights_cannot_confirm_an_old_question(
    bot: BotHarness,
) -> None:
    question = await asks_to_forget(bot, ADMIN, "/forget @alice")
    bot.session.admins[GROUP_ID] = admins(DAVE)  # Adam is no longer an admin
    bot.hearth.operators.forget(GROUP_ID)

    await bot.feed(presses(ADMIN, choice(question, "Erase")))

    [refusal] = callback_answers(bot)
    assert refusal.params["text"] == NOT_AN_OPERATOR
    assert (await stored_member(bot, ALICE["id"])).username == "alice"
