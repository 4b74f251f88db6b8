"""Honour boards through the real dispatcher: operators define a metric, members report,
operators approve or reject, and the month's board ranks approved values in the
community's time zone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hearth.scheduler import jobs
from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.honour import HonourMetricRow, HonourReportRow
from tests.conftest import BotHarness, make_harness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    CAROL,
    GROUP_ID,
    NOW,
    OPERATOR,
    at,
    bot_serves_group,
    buttons,
    callback_answers,
    delivered,
    members_of,
    presses,
    rows,
    said,
    says_privately,
    starts_the_bot,
)

EVE = updates.user(105, "Eve", username="eve")
FRANK = updates.user(106, "Frank")
NOT_AN_OPERATOR = "This command is for the community's operators."
KM = "Kilometres driven"
PHOTO = [{"file_id": "odometer", "file_unique_id": "o", "width": 1280, "height": 960}]


@pytest.fixture
async def bot(sqlite_url: str, clock: Any) -> AsyncIterator[BotHarness]:
    """Adam's group keeps Shanghai time; Alice, Carol, Eve and Frank are members; Olga, a
    configured operator, started the bot."""
    harness = await make_harness(
        sqlite_url,
        clock,
        operator_ids="7",
        welcome_batch_seconds=0,
        default_timezone="Asia/Shanghai",
    )
    await bot_serves_group(harness)
    await members_of(harness, ALICE, CAROL, EVE, FRANK)
    await starts_the_bot(harness, ALICE, CAROL, EVE, FRANK, OPERATOR)
    harness.session.clear()
    yield harness
    await harness.hearth.on_shutdown()


def reports(person: dict[str, Any], text: str, number: int, **extra: Any) -> dict[str, Any]:
    """``person`` sends ``text`` in private as their message number ``number``."""
    return says_privately(person, text, message_id=number, **extra)


def reports_with_photo(person: dict[str, Any], caption: str, number: int) -> dict[str, Any]:
    command = caption.split()[0]
    return updates.message(
        updates.private(person),
        person,
        None,
        NOW,
        message_id=number,
        photo=PHOTO,
        caption=caption,
        caption_entities=[{"type": "bot_command", "offset": 0, "length": len(command)}],
    )


def last_text(bot: BotHarness, chat_id: int) -> str:
    return bot.session.texts_to(chat_id)[-1]


def board_lines(text: str) -> list[str]:
    return text.splitlines()[2:]


async def test_members_report_and_the_board_ranks_them_with_titles(bot: BotHarness) -> None:
    await bot.feed(said(ADMIN, f"/honour_new {KM} unit=km"))
    assert bot.session.texts_to(GROUP_ID)[-1].startswith(
        f"🏆 New honour board in <b>Pudong Owners</b>: <b>{KM}</b> (#1)."
    )
    for number, (person, value) in enumerate(
        [(ALICE, "120.5"), (EVE, "300km"), (CAROL, "200 km"), (FRANK, "50"), (ALICE, "79,5")],
        start=1,
    ):
        moment = NOW + timedelta(minutes=number)
        await at(bot, moment, reports(person, f"/report {KM.lower()} {value}", number))
    assert last_text(bot, ALICE["id"]).splitlines()[:2] == [
        f"🏆 <b>{KM}</b>",
        "Counted: 79.5 km for 2026-03.",
    ]

    await bot.feed(said(EVE, f"/honour {KM}"))
    board = bot.session.texts_to(GROUP_ID)[-1]
    assert board.splitlines()[0] == f"🏆 <b>{KM}</b> — 2026-03 · Pudong Owners"
    assert board_lines(board) == [
        "🥇 Champion — Eve: 300 km",
        "🥈 Runner-up — Alice: 200 km",  # equal totals share a rank; Alice was there first
        "🥈 Runner-up — Carol: 200 km",
        "4. Frank: 50 km",
    ]
    # in the group the list has no buttons: each tap would cost a group message
    await bot.feed(said(EVE, "/honour"))
    [group_listing] = bot.session.messages_to(GROUP_ID)[-1:]
    assert f"#1 {KM} (km)" in group_listing.text
    assert group_listing.button_data() == []
    # in private: /honour lists the boards, a tap shows one
    await bot.feed(says_privately(CAROL, "/honour"))
    [listing] = bot.session.messages_to(CAROL["id"])[-1:]
    assert f"#1 {KM} (km)" in listing.text
    assert listing.button_data() == ["hn1b:1:2026-03"]
    await bot.feed(presses(CAROL, "hn1b:1:2026-03"))
    assert board_lines(last_text(bot, CAROL["id"]))[0] == "🥇 Champion — Eve: 300 km"
    await bot.feed(says_privately(CAROL, f"/honour {KM} 2026-02"))
    assert "Nobody is on this board for 2026-02 yet." in last_text(bot, CAROL["id"])
    # someone outside the group cannot open it, even with a copied button
    outsider = updates.user(120, "Outsider")
    await bot.feed(presses(outsider, "hn1b:1:2026-03"))
    assert "no longer valid" in callback_answers(bot)[-1].params["text"]
    [metric] = await rows(bot, HonourMetricRow)
    assert (metric.name, metric.unit, metric.needs_approval) == (KM, "km", False)
    assert [row.action for row in await rows(bot, tables.AuditLog)] == ["honour.metric_create"]


async def test_reports_needing_approval_go_to_operators_and_a_rejected_one_does_not_count(
    bot: BotHarness,
) -> None:
    await bot.feed(says_privately(OPERATOR, f"/honour_new {KM} unit=km approval=yes max=10000"))
    assert "Each report needs an operator's approval." in last_text(bot, OPERATOR["id"])
    await bot.feed(reports_with_photo(ALICE, f"/report {KM} 1234", 1))
    await bot.feed(reports(EVE, f"/report {KM} 800", 1))
    assert "800 km for 2026-03 waits for the team's approval." in last_text(bot, EVE["id"])
    await delivered(bot)

    review = bot.session.of("sendPhoto")[-1]
    assert (review.chat_id, review.params["photo"]) == (OPERATOR["id"], "odometer")
    assert "Alice reports 1,234 km for 2026-03." in review.params["caption"]
    assert review.button_data() == ["hn1d:1:1", "hn1d:1:0"]
    [eve_review] = [c for c in bot.session.messages_to(OPERATOR["id"]) if "Eve reports" in c.text]
    assert eve_review.button_data() == ["hn1d:2:1", "hn1d:2:0"]
    # nothing counts before a decision
    await bot.feed(says_privately(ALICE, f"/honour {KM}"))
    assert "Nobody is on this board for 2026-03 yet." in last_text(bot, ALICE["id"])

    # a member cannot approve anything, not even their own report
    await bot.feed(presses(ALICE, "hn1d:1:1"))
    assert callback_answers(bot)[-1].params["text"] == NOT_AN_OPERATOR
    await bot.feed(presses(OPERATOR, "hn1d:1:0"))
    assert callback_answers(bot)[-1].params["text"] == "Rejected: report #1 does not count."
    await bot.feed(presses(OPERATOR, "hn1d:2:1"))
    assert callback_answers(bot)[-1].params["text"] == "Approved: 800 km counts for 2026-03."
    await bot.feed(presses(OPERATOR, "hn1d:1:1"))  # changing one's mind needs a new report
    assert callback_answers(bot)[-1].params["text"] == "This report was rejected already."
    assert len(bot.session.of("editMessageReplyMarkup")) == 2  # the buttons came off

    await bot.feed(says_privately(ALICE, f"/honour {KM}"))
    assert board_lines(last_text(bot, ALICE["id"])) == ["🥇 Champion — Eve: 800 km"]
    await delivered(bot)
    assert "was not approved" in last_text(bot, ALICE["id"])
    assert last_text(bot, EVE["id"]).startswith("✅ Your report of 800 km")
    assert [(r.member_id, r.status) for r in await rows(bot, HonourReportRow)] == [
        (ALICE["id"], "rejected"),
        (EVE["id"], "approved"),
    ]
    assert [row.action for row in await rows(bot, tables.AuditLog)][1:] == [
        "honour.reject",
        "honour.approve",
    ]


async def test_a_month_is_the_communitys_month_and_its_board_is_posted_once(
    bot: BotHarness,
) -> None:
    await bot.feed(says_privately(OPERATOR, f"/honour_new {KM} unit=km"))
    last_of_march = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    await at(bot, last_of_march, reports(ALICE, f"/report {KM} 100", 1))
    await at(bot, last_of_march + timedelta(hours=1), reports(ALICE, f"/report {KM} 200", 2))
    assert "Counted: 200 km for 2026-04." in last_text(bot, ALICE["id"])  # 00:30 in Shanghai

    await bot.feed(says_privately(ALICE, f"/honour {KM} 2026-03"))
    assert board_lines(last_text(bot, ALICE["id"])) == ["🥇 Champion — Alice: 100 km"]
    await bot.feed(says_privately(ALICE, f"/honour {KM}"))  # this month: April in Shanghai
    assert board_lines(last_text(bot, ALICE["id"])) == ["🥇 Champion — Alice: 200 km"]

    # The finished month goes to the group from 10:00 local on the 1st, once.
    notices = bot.hearth.dispatcher["honour_notices"]
    posted = []
    for hour in (1, 2, 3):  # 09:00, 10:00 and 11:00 in Shanghai
        bot.hearth.clock.set(datetime(2026, 4, 1, hour, 0, tzinfo=UTC))  # type: ignore[attr-defined]
        posted.append(await jobs.honour_boards(bot.hearth.uow_factory, notices, bot.hearth.clock))
    assert posted == [0, 1, 0]
    await delivered(bot)
    [final] = [text for text in bot.session.texts_to(GROUP_ID) if "is final" in text]
    assert final.startswith("The 2026-03 board is final. Congratulations!")
    assert "🥇 Champion — Alice: 100 km" in final


async def test_bad_reports_and_boards_get_clear_answers_and_change_nothing(
    bot: BotHarness,
) -> None:
    await bot.feed(says_privately(ALICE, "/honour_new Laps"))
    assert last_text(bot, ALICE["id"]) == NOT_AN_OPERATOR
    await bot.feed(says_privately(OPERATOR, f"/honour_new {KM} unit=km max=5000"))
    for attempt in (
        f"/honour_new {KM.upper()}",
        "/honour_new Laps approval=maybe",
        "/honour_new Laps colour=red",
    ):
        await bot.feed(says_privately(OPERATOR, attempt))
    exists, approval, unknown = bot.session.texts_to(OPERATOR["id"])[-3:]
    assert exists == "There is a board called “KILOMETRES DRIVEN” already."
    assert approval == "approval= takes yes or no."
    assert unknown.startswith("I do not know “colour=red”. Usage: /honour_new NAME")
    answers = []
    for number, attempt in enumerate(
        [
            "/report",
            f"/report {KM}",
            f"/report {KM} -5",
            f"/report {KM} 0",
            f"/report {KM} 12.345",
            f"/report {KM} 6000",
            f"/report {KM} 5 miles",
            "/report Laps 5",
            f"/honour {KM} 2026-13",
        ],
        start=1,
    ):
        await bot.feed(reports(ALICE, attempt, number))
        answers.append(last_text(bot, ALICE["id"]))
    usage = answers[0]
    assert usage.startswith("Usage: /report BOARD VALUE")
    assert answers[1:] == [
        usage,
        usage,
        "The value must be a positive number with at most two decimals, e.g. 1234 or 12.5.",
        usage,
        f"That is more than 5,000 km, the most one report for <b>{KM}</b> may carry.",
        f"<b>{KM}</b> is counted in km.",
        "There is no honour board “Laps” in your communities. /honour lists them.",
        "Write the month as YYYY-MM, e.g. 2026-03.",
    ]
    await bot.feed(said(ALICE, f"/report {KM} 5"))
    assert bot.session.texts_to(GROUP_ID)[-1] == (
        "Send /report to me in private, with a photo as proof if you like."
    )
    assert await rows(bot, HonourReportRow) == []


async def test_forget_me_erases_the_proof_photos_and_the_board_stays(bot: BotHarness) -> None:
    await bot.feed(says_privately(OPERATOR, f"/honour_new {KM} unit=km"))
    await bot.feed(reports_with_photo(ALICE, f"/report {KM} 42", 1))
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/forget_me"))
    [question] = bot.session.messages_to(ALICE["id"])
    [erase] = [b["callback_data"] for b in buttons(question) if b["text"] == "Erase my data"]
    await bot.feed(presses(ALICE, erase))

    [report] = await rows(bot, HonourReportRow)
    assert (report.amount, report.photo) == (4200, None)
    await bot.feed(said(EVE, f"/honour {KM}"))
    assert board_lines(bot.session.texts_to(GROUP_ID)[-1]) == ["🥇 Champion — Former member: 42 km"]
