"""/import_conversions through the real dispatcher: an operator sends the dealer's CSV in
private and reads the report; members are told about the points their purchase earned;
exports list conversions, and phone numbers only when the operator asks for them."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from hearth.handlers.callbacks import CommunityChoice
from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.conversions import ConversionRow
from tests.conftest import BotHarness
from tests.handlers.common import (
    ALICE,
    BORIS,
    GROUP_ID,
    NOW,
    OPERATOR,
    OTHER_GROUP,
    bot_serves_group,
    buttons,
    delivered,
    ledger,
    members_of,
    presses,
    rows,
    says_privately,
    starts_the_bot,
)
from tests.telegram import Call

NOT_AN_OPERATOR = "This command is for the community's operators."
ALICE_PHONE = "+8613812345678"
DEALER_FILE = b"""\xef\xbb\xbftelegram_id;phone;date;kind;amount;ref
101;;2026-02-10;service;450.50;WO-1
;+86 138 1234 5678;2026-02-20;purchase;189000;INV-7
555;;2026-02-21;purchase;1000;
101;;2026-02-10;service;450.50;WO-1
"""
BROKEN_FILE = b"""telegram_id,date,kind,amount
101,2026-02-10,service,450.50
101,10.02.2026,service,1
,2026-02-11,purchase,abc
"""


def sends_file(
    person: updates.JsonDict, name: str, caption: str | None = "/import_conversions"
) -> updates.JsonDict:
    """``person`` sends the file ``name`` in private, with ``caption`` (a command) or none."""
    document = {"file_id": name, "file_unique_id": name, "file_name": name, "file_size": 100}
    extra: dict[str, object] = {"document": document}
    if caption is not None:
        command = caption.split()[0]
        extra |= {
            "caption": caption,
            "caption_entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        }
    return updates.message(updates.private(person), person, None, NOW, **extra)


async def club(bot: BotHarness) -> None:
    """Alice and Boris are members; Alice started the bot and shared her own number."""
    await bot_serves_group(bot)
    await members_of(bot, ALICE, BORIS)
    await starts_the_bot(bot, ALICE)
    card = {"phone_number": ALICE_PHONE, "first_name": "Alice", "user_id": ALICE["id"]}
    await bot.feed(updates.message(updates.private(ALICE), ALICE, None, NOW, contact=card))
    bot.session.serve_file("dealer.csv", DEALER_FILE)
    bot.session.serve_file("broken.csv", BROKEN_FILE)
    bot.session.clear()


async def stored(bot: BotHarness) -> list[tuple[int, str, int]]:
    found = await rows(bot, ConversionRow)
    return sorted((row.member_id, row.kind, row.amount_minor) for row in found)


def the_document(bot: BotHarness) -> Call:
    [document] = bot.session.of("sendDocument")
    return document


def csv_rows(document: Call) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(document.uploads["document"].decode("utf-8-sig"))))


# -- importing


async def test_an_operator_imports_the_dealers_file_and_reads_the_report(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(sends_file(OPERATOR, "dealer.csv"))

    [report] = bot.session.texts_to(OPERATOR["id"])
    assert report.splitlines()[:5] == [
        "Pudong Owners: 4 rows read.",
        "✅ 2 imported.",
        "Already imported: 0",
        "Repeated in the file (counted once): 1",
        "Not matched to a member (skipped): 1",
    ]
    assert "Points: 200 for 1 purchase." in report
    assert "line 4: no member of this community has Telegram id 555 (skipped)" in report
    assert "line 5: the same as line 2: counted once" in report
    assert await stored(bot) == [(101, "purchase", 18900000), (101, "service", 45050)]
    assert ("earn", 200, "purchase") in await ledger(bot, ALICE)


async def test_the_same_file_again_imports_nothing_new_and_credits_nothing(
    bot: BotHarness,
) -> None:
    await club(bot)
    await bot.feed(sends_file(OPERATOR, "dealer.csv"))
    bot.session.clear()

    await bot.feed(sends_file(OPERATOR, "dealer.csv"))

    [report] = bot.session.texts_to(OPERATOR["id"])
    assert "✅ 0 imported." in report
    assert "Already imported: 2" in report
    assert "Points" not in report
    assert [entry for entry in await ledger(bot, ALICE) if entry[2] == "purchase"] == [
        ("earn", 200, "purchase")
    ]


async def test_the_member_is_told_in_private_about_their_purchase_points(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(sends_file(OPERATOR, "dealer.csv"))
    await bot.feed(sends_file(OPERATOR, "dealer.csv"))
    await delivered(bot)

    notices = [text for text in bot.session.texts_to(ALICE["id"]) if "purchase" in text]
    assert notices == [
        "🎉 Thank you for your purchase with Pudong Owners! It earned you 200 points."
    ]


async def test_a_malformed_file_imports_nothing_and_names_each_bad_line(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(sends_file(OPERATOR, "broken.csv"))

    [report] = bot.session.texts_to(OPERATOR["id"])
    assert report.splitlines() == [
        "Pudong Owners: 3 rows read.",
        "❌ Nothing was imported: 2 lines need fixing first. Correct the file and send it again.",
        "",
        "line 3: the date “10.02.2026” is not YYYY-MM-DD",
        "line 4: no telegram_id or phone",
        "line 4: the amount “abc” is not a number like 1234.50",
    ]
    assert await stored(bot) == []


async def test_the_file_may_follow_the_command_and_cancel_stops_waiting(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(says_privately(OPERATOR, "/import_conversions"))
    await bot.feed(sends_file(OPERATOR, "dealer.csv", caption=None))
    await bot.feed(says_privately(OPERATOR, "/import_conversions"))
    await bot.feed(says_privately(OPERATOR, "/cancel"))
    await bot.feed(sends_file(OPERATOR, "broken.csv", caption=None))

    prompt, report, _again, cancelled, *after = bot.session.texts_to(OPERATOR["id"])
    assert prompt.startswith("Send me the CSV file of conversions for Pudong Owners")
    assert report.startswith("Pudong Owners: 4 rows read.")
    assert cancelled == "Import cancelled: nothing was imported."
    assert not any("rows read" in text for text in after)  # no longer waiting for a file
    assert len(await stored(bot)) == 2


async def test_an_operator_of_two_communities_picks_one_for_the_file(bot: BotHarness) -> None:
    await club(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)

    await bot.feed(sends_file(OPERATOR, "dealer.csv"))

    [picker] = bot.session.messages_to(OPERATOR["id"])
    assert picker.text == "Which community?"
    assert {button["text"] for button in buttons(picker)} == {"Pudong Owners", "Jinqiao Riders"}
    assert await stored(bot) == []
    bot.session.clear()

    await bot.feed(
        presses(OPERATOR, CommunityChoice(action="conv_import", community_id=GROUP_ID).pack())
    )

    [report] = bot.session.texts_to(OPERATOR["id"])
    assert report.startswith("Pudong Owners: 4 rows read.")
    assert len(await stored(bot)) == 2


async def test_files_that_cannot_be_read_get_a_clear_answer(bot: BotHarness) -> None:
    await club(bot)
    bot.session.serve_file("no-header.csv", b"101,2026-02-10,service\n")

    await bot.feed(sends_file(OPERATOR, "no-header.csv"))
    await bot.feed(sends_file(OPERATOR, "dealer.xlsx"))

    assert bot.session.texts_to(OPERATOR["id"]) == [
        "I could not read that file: the first line must name the columns; missing: "
        "telegram_id or phone, date, kind. Nothing was imported.",
        "Send a .csv file (UTF-8, comma or semicolon separated).",
    ]


async def test_a_member_sending_the_file_is_refused_and_nothing_is_imported(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(sends_file(ALICE, "dealer.csv"))
    await bot.feed(says_privately(ALICE, "/import_conversions"))
    forged = CommunityChoice(action="conv_import", community_id=GROUP_ID).pack()
    await bot.feed(presses(ALICE, forged))

    assert bot.session.texts_to(ALICE["id"]) == [NOT_AN_OPERATOR, NOT_AN_OPERATOR]
    [alert] = bot.session.of("answerCallbackQuery")
    assert alert.params["text"] == NOT_AN_OPERATOR
    assert await stored(bot) == []


async def test_the_import_is_audited(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(sends_file(OPERATOR, "dealer.csv"))

    async with bot.uow() as uow:
        [audit] = [
            (row.actor_id, row.community_id, row.details)
            for row in await uow.session.scalars(select(tables.AuditLog))
            if row.action == "conversions.import"
        ]
    assert audit[:2] == (OPERATOR["id"], GROUP_ID)
    assert (audit[2]["imported"], audit[2]["file"], audit[2]["via"]) == (2, "dealer.csv", "bot")


# -- exports


async def test_exports_list_conversions_without_phone_numbers_by_default(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(sends_file(OPERATOR, "dealer.csv"))
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/export conversions"))
    await bot.feed(says_privately(OPERATOR, "/export members"))

    conversions, members = bot.session.of("sendDocument")
    assert conversions.params["caption"] == "Pudong Owners: conversions, 2 rows (times in UTC)."
    assert csv_rows(conversions) == [
        {
            "member_id": "101", "name": "Alice", "kind": "service", "date": "2026-02-10",
            "amount": "450.50", "key": "ref:WO-1",
        },
        {
            "member_id": "101", "name": "Alice", "kind": "purchase", "date": "2026-02-20",
            "amount": "189000.00", "key": "ref:INV-7",
        },
    ]  # fmt: skip
    for document in (conversions, members):
        assert b"13812345678" not in document.uploads["document"]
        assert "phone" not in csv_rows(document)[0]


async def test_phone_numbers_are_exported_only_when_asked_and_that_is_audited(
    bot: BotHarness,
) -> None:
    await club(bot)
    await bot.feed(sends_file(OPERATOR, "dealer.csv"))
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/export members phones"))
    await bot.feed(says_privately(OPERATOR, "/export conversions xlsx phones"))
    await bot.feed(says_privately(OPERATOR, "/export points phones"))

    members, _workbook = bot.session.of("sendDocument")
    assert members.params["caption"].endswith(
        "⚠️ It holds the phone numbers members shared: keep it safe, delete it after use."
    )
    phones = {row["name"]: row["phone"] for row in csv_rows(members)}
    assert phones["Alice"] == "'" + ALICE_PHONE  # kept from being read as a formula
    assert phones["Boris"] == ""
    [usage] = bot.session.texts_to(OPERATOR["id"])
    assert usage.startswith("Usage: /export members|activity|points|events|conversions")
    async with bot.uow() as uow:
        audits = [
            (row.actor_id, row.details["what"], row.details["rows"])
            for row in await uow.session.scalars(select(tables.AuditLog))
            if row.action == "export.phones"
        ]
    assert sorted(audits) == [(OPERATOR["id"], "conversions", 2), (OPERATOR["id"], "members", 3)]


async def test_an_operator_of_two_communities_keeps_phones_through_the_picker(
    bot: BotHarness,
) -> None:
    await club(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    await bot.feed(says_privately(OPERATOR, "/export members phones"))
    [picker] = bot.session.messages_to(OPERATOR["id"])
    [pudong] = [b["callback_data"] for b in buttons(picker) if b["text"] == "Pudong Owners"]
    bot.session.clear()

    await bot.feed(presses(OPERATOR, pudong))

    document = the_document(bot)
    assert document.params["caption"].startswith("Pudong Owners: members, 3 rows")
    assert "phone" in csv_rows(document)[0]
