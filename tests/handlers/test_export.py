"""/export: the file goes to the operator in private, never into the group, and never to
anyone who does not operate the community."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from hearth.handlers import export as export_handlers
from hearth.services import export
from hearth.simulate import updates
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    CAROL,
    GROUP_ID,
    NOW,
    OPERATOR,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    admins,
    bot_serves_group,
    callback_answers,
    presses,
    said,
    says_privately,
)
from tests.handlers.test_segments import NOT_AN_OPERATOR, club, edited, only_message
from tests.telegram import Call

USAGE = (
    "Usage: /export members|activity|points|events|conversions|attribution [csv|xlsx]; add "
    "“phones” to a members or conversions export for the numbers members shared"
)


def the_document(bot: BotHarness) -> Call:
    [document] = bot.session.of("sendDocument")
    return document


def csv_rows(document: Call) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(document.uploads["document"].decode("utf-8-sig"))))


async def test_export_members_in_private_sends_the_csv_file(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(says_privately(OPERATOR, "/export members"))

    document = the_document(bot)
    assert document.chat_id == OPERATOR["id"]
    assert document.params["caption"] == "Pudong Owners: members, 5 rows (times in UTC)."
    assert document.uploads["document"].startswith(b"\xef\xbb\xbf")
    names = {row["name"]: row["stage"] for row in csv_rows(document)}
    assert names == {
        "Adam": "new",
        "Alice": "mature",
        "Boris": "new",
        "Carol": "dormant",
        "Dave Lee": "churned",
    }


async def test_export_points_as_xlsx_is_a_workbook_of_the_ledger(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(says_privately(OPERATOR, "/export points xlsx"))

    document = the_document(bot)
    assert document.params["caption"] == "Pudong Owners: points ledger, 1 row (times in UTC)."
    sheet = load_workbook(io.BytesIO(document.uploads["document"])).active
    assert sheet is not None
    header, entry = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert header[:4] == ["entry_id", "member_id", "kind", "amount"]
    assert entry[1:4] == [ALICE["id"], "earn", 120]


async def test_export_in_the_group_is_sent_in_private_and_never_posted(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(said(ADMIN, "/export activity"))

    assert bot.session.texts_to(GROUP_ID) == ["I sent it to you in private."]
    document = the_document(bot)
    assert document.chat_id == ADMIN["id"]
    assert len(csv_rows(document)) == 71 + 6 + 21 + 11 + 1  # messages, and Dave's leave


async def test_export_in_the_group_by_an_operator_the_bot_cannot_write_to_sends_nothing(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(said(OPERATOR, "/export members"))

    [in_group] = bot.session.messages_to(GROUP_ID)
    assert in_group.text.startswith("Open a private chat with me first")
    assert bot.session.of("sendDocument") == []


async def test_a_file_past_telegrams_limit_is_not_sent_and_the_cli_line_is_given_instead(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await club(bot)
    # 50 MB in production; the club's activity file is a few kB
    monkeypatch.setattr(export_handlers, "MAX_DOCUMENT_BYTES", 1000)
    monkeypatch.setattr(export, "BATCH", 5)  # the writer checks the size after each batch

    for what in ("activity", "activity xlsx"):
        await bot.feed(says_privately(OPERATOR, f"/export {what}"))

    assert bot.session.of("sendDocument") == []
    for answer in bot.session.texts_to(OPERATOR["id"]):
        assert answer.startswith("The file would be larger than the 1 MB Telegram lets me send.")
        assert f"hearth export --community {GROUP_ID} --what activity" in answer


async def test_export_of_something_unknown_answers_the_usage(bot: BotHarness) -> None:
    await club(bot)

    for text in ("/export", "/export messages", "/export members pdf", "/export a b c"):
        await bot.feed(says_privately(OPERATOR, text))

    assert bot.session.texts_to(OPERATOR["id"]) == [USAGE] * 4
    assert bot.session.of("sendDocument") == []


async def test_an_operator_of_two_communities_picks_which_one_to_export(bot: BotHarness) -> None:
    await club(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    await bot.feed(said(ADMIN, "hi"))
    await bot.feed(updates.message(OTHER_GROUP, ADMIN, "hi", NOW))
    bot.session.clear()

    await bot.feed(says_privately(ADMIN, "/export members xlsx"))

    picker = only_message(bot, ADMIN["id"])
    assert picker.text == "Which community?"
    assert picker.button_data() == [
        f"exo1:{OTHER_GROUP_ID}:members:xlsx",
        f"exo1:{GROUP_ID}:members:xlsx",
    ]
    bot.session.clear()

    await bot.feed(presses(ADMIN, f"exo1:{GROUP_ID}:members:xlsx"))

    assert edited(bot).text == "Which community? Pudong Owners"
    document = the_document(bot)
    assert document.chat_id == ADMIN["id"]
    assert document.params["document"].startswith("attach://")
    assert document.uploads["document"].startswith(b"PK")  # a zip: the workbook


async def test_a_member_is_refused_export_everywhere_and_gets_no_file(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(said(ALICE, "/export members"))
    await bot.feed(says_privately(ALICE, "/export members"))
    await bot.feed(presses(ALICE, f"exo1:{GROUP_ID}:members:csv"))

    assert bot.session.texts_to(GROUP_ID) == [NOT_AN_OPERATOR]
    assert bot.session.texts_to(ALICE["id"]) == [NOT_AN_OPERATOR]
    [answer] = callback_answers(bot)
    assert answer.text == NOT_AN_OPERATOR
    assert bot.session.of("sendDocument") == []


async def test_a_forged_export_button_for_another_community_is_refused(bot: BotHarness) -> None:
    await club(bot)
    bot.session.admins[OTHER_GROUP_ID] = admins(CAROL)
    await bot_serves_group(bot, chat=OTHER_GROUP)

    await bot.feed(presses(ADMIN, f"exo1:{OTHER_GROUP_ID}:members:csv"))

    [answer] = callback_answers(bot)
    assert answer.text == NOT_AN_OPERATOR
    assert bot.session.of("sendDocument") == []
