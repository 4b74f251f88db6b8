"""Attribution through the real dispatcher, on the hand-made club of
``tests/attribution_world.py`` (Asia/Shanghai, "today" 2026-05-20): ``/stats conversions``
shows the figures the domain and service tests work out, open windows as open; members are
refused; the weekly digest has a "Conversions" section only when there are conversions;
``/export attribution`` holds a row per occasion and window."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete
from sqlmodel import col

from hearth.simulate.clock import VirtualClock
from hearth.storage import tables
from hearth.storage.channels import ChannelRow, ChannelTouchRow
from hearth.storage.conversions import ConversionRow
from tests.attribution_world import ANN, BEN, NAMES, NOW, furnish, utc
from tests.conftest import BotHarness, make_harness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    GROUP_ID,
    OPERATOR,
    OTHER_GROUP,
    bot_serves_group,
    buttons,
    members_of,
    presses,
    said,
    says_privately,
)

TOUCHED = datetime(2025, 9, 30, 12, tzinfo=UTC)  # the day before the club's members joined
REFUSED = "This command is for the community's operators."
USAGE = (
    "Usage: /stats conversions [days] [service|purchase|trade_in] — 1 to 366 days, 30 by default"
)
WORKSHOP = """<b>#1 Maintenance workshop</b> · 2026-01-10 · checked in: 3
<pre>                    30 d        90 d
took part      2/3 66.7%  3/3 100.0%
others         1/4 25.0%  4/4 100.0%
 same mix          33.3%      100.0%
 uplift          +33.3pp      +0.0pp
conversions            2           3
amount        150,800.00  151,300.00</pre>"""
DRIVE = """<b>#2 Spring drive</b> · 2026-04-25 · going: 2 (no check-ins recorded)
<pre>                    30 d        90 d
took part      1/2 50.0%   1/2 50.0%
others         2/7 28.6%   2/7 28.6%
 same mix         100.0%      100.0%
 uplift             open        open
conversions            1           1
amount            700.00      700.00</pre>
Open, counted so far: 30 d until 2026-05-25, 90 d until 2026-07-24.
“Same mix” for others covers 1 of 2 participants: others has nobody in the other \
participants' lifecycle stages."""
MARCH = """<b>2026-03</b> · nudged: 2, holdout: 2
<pre>                    30 d        90 d
took part      1/2 50.0%  2/2 100.0%
holdout         0/2 0.0%   1/2 50.0%
 same mix           0.0%      100.0%
 uplift          +50.0pp        open
others         1/5 20.0%   2/5 40.0%
 same mix           0.0%        0.0%
 uplift          +50.0pp        open
conversions            1           2
amount            550.00   20,550.00</pre>
Open, counted so far: 90 d until 2026-06-18."""
FIRST_SEASON = """<b>2026-Q1</b> · answered: 3
<pre>                    30 d        90 d
took part      1/3 33.3%  3/3 100.0%
others         1/4 25.0%   3/4 75.0%
 same mix           0.0%      100.0%
 uplift          +33.3pp      +0.0pp
conversions            1           3
amount            800.00    1,850.00</pre>"""


@pytest.fixture
async def bot(sqlite_url: str, clock: VirtualClock) -> AsyncIterator[BotHarness]:
    """A wired Hearth whose communities live in Asia/Shanghai."""
    harness = await make_harness(
        sqlite_url,
        clock,
        operator_ids="7",
        welcome_batch_seconds=0,
        default_timezone="Asia/Shanghai",
    )
    yield harness
    await harness.hearth.on_shutdown()


async def the_club(bot: BotHarness, *, conversions: bool = True) -> None:
    """The group is the hand-made club (its members only), and today is 2026-05-20."""
    await bot_serves_group(bot)
    async with bot.uow() as uow:
        await furnish(uow, GROUP_ID)
    async with bot.uow() as uow:
        membership = tables.Membership
        await uow.session.execute(
            delete(membership).where(col(membership.member_id).not_in(list(NAMES)))
        )
        if not conversions:
            await uow.session.execute(delete(ConversionRow))
        await uow.commit()
    bot.hearth.clock.set(NOW)  # type: ignore[attr-defined]
    bot.session.clear()


def report_of(bot: BotHarness, chat_id: int) -> str:
    return "\n\n".join(bot.session.texts_to(chat_id))


async def test_an_operator_reads_what_events_nudges_and_quizzes_led_to(bot: BotHarness) -> None:
    await the_club(bot)

    await bot.feed(says_privately(OPERATOR, "/stats conversions"))

    report = report_of(bot, OPERATOR["id"])
    assert report.startswith(
        "<b>Conversions · Pudong Owners</b>\n"
        "2026-04-21 – 2026-05-20 (30 days)\n"
        "service visits: 2 · 1,150.00\n"
        "trade-ins: 1 · 20,000.00\n\n"
        "Share of members with a conversion in the 30 and 90 days after taking part,"
    )
    for block in (DRIVE, WORKSHOP, MARCH, FIRST_SEASON):
        assert block in report
    # Latest first: events, then campaigns (April, March, February), then seasons.
    order = ["#2 Spring drive", "#1 Maintenance workshop", "<b>2026-04</b>", "<b>2026-03</b>"]
    order += ["<b>2026-02</b>", "<b>2026-Q2</b>", "<b>2026-Q1</b>"]
    assert [report.index(each) for each in order] == sorted(report.index(each) for each in order)


async def test_the_figures_of_one_kind_over_other_days_in_the_group(bot: BotHarness) -> None:
    await the_club(bot)

    await bot.feed(said(ADMIN, "/stats conversions 7 service"))

    report = report_of(bot, GROUP_ID)
    assert report.startswith(
        "<b>Conversions · Pudong Owners</b>\n"
        "2026-05-14 – 2026-05-20 (7 days) · only service visits\n"
        "No conversions in these days.\n\n"
    )
    assert "took part      1/3 33.3%" in report  # the workshop: Cai's purchase left out


async def test_without_conversions_the_operator_is_pointed_to_the_import(
    bot: BotHarness,
) -> None:
    await the_club(bot, conversions=False)

    await bot.feed(says_privately(OPERATOR, "/stats conversions"))

    assert bot.session.texts_to(OPERATOR["id"]) == [
        "<b>Conversions · Pudong Owners</b>\nNo conversions imported yet — see /import_conversions."
    ]


async def test_a_member_is_refused_and_sees_no_figure(bot: BotHarness) -> None:
    await the_club(bot)
    await members_of(bot, ALICE)
    bot.session.clear()

    await bot.feed(said(ALICE, "/stats conversions"))
    await bot.feed(says_privately(ALICE, "/stats conversions 90"))

    sent = [call.text for call in bot.session.of("sendMessage")]
    assert sent == [REFUSED, REFUSED]


async def test_words_it_cannot_read_get_the_usage(bot: BotHarness) -> None:
    await the_club(bot)

    await bot.feed(says_privately(OPERATOR, "/stats conversions lots"))
    await bot.feed(says_privately(OPERATOR, "/stats conversions 0"))

    assert bot.session.texts_to(OPERATOR["id"]) == [USAGE, USAGE]


async def test_an_operator_of_two_communities_picks_one(bot: BotHarness) -> None:
    await the_club(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)

    await bot.feed(says_privately(OPERATOR, "/stats conversions 90 service"))
    [picker] = bot.session.messages_to(OPERATOR["id"])
    data = {button["text"]: button["callback_data"] for button in buttons(picker)}
    bot.session.clear()
    await bot.feed(presses(OPERATOR, data["Pudong Owners"]))

    assert data["Pudong Owners"] == f"cc1:convstats_90.service:{GROUP_ID}"
    report = report_of(bot, OPERATOR["id"])
    assert "2026-02-20 – 2026-05-20 (90 days) · only service visits" in report
    # Ben 03-15, Eva 03-20, Fay 04-10, Ann 05-02, Ben 05-10
    assert "service visits: 5 · 2,600.00" in report


async def test_the_digest_has_a_conversions_section_with_the_best_recent_event(
    bot: BotHarness,
) -> None:
    await the_club(bot)
    bot.hearth.clock.set(datetime(2026, 5, 18, 2, tzinfo=UTC))  # type: ignore[attr-defined]

    await bot.feed(says_privately(OPERATOR, "/digest"))

    [preview] = bot.session.texts_to(OPERATOR["id"])
    assert (
        "\n\n<b>Conversions</b>\n"
        "trade-ins 1 (20,000.00)\n"
        "Best recent event: Maintenance workshop (2026-01-10), +33.3pp in 30 days (66.7% of "
        "participants against 33.3% of the same mix). /stats conversions\n"
    ) in preview


async def test_the_digest_has_no_conversions_section_without_conversions(
    bot: BotHarness,
) -> None:
    await the_club(bot, conversions=False)

    await bot.feed(says_privately(OPERATOR, "/digest"))

    [preview] = bot.session.texts_to(OPERATOR["id"])
    assert "Conversions" not in preview


async def test_the_attribution_export_has_a_row_per_occasion_and_window(
    bot: BotHarness,
) -> None:
    await the_club(bot)

    await bot.feed(says_privately(OPERATOR, "/export attribution"))

    [document] = bot.session.of("sendDocument")
    assert document.params["caption"] == (
        "Pudong Owners: attribution (conversions after taking part), 20 rows (times in UTC)."
    )
    rows = list(csv.DictReader(io.StringIO(document.uploads["document"].decode("utf-8-sig"))))
    assert [(row["occasion"], row["reference"], row["window_days"]) for row in rows[:6]] == [
        ("event", "2", "30"), ("event", "2", "90"), ("event", "1", "30"), ("event", "1", "90"),
        ("nudges", "2026-04", "30"), ("nudges", "2026-04", "90"),
    ]  # fmt: skip
    workshop = rows[2]
    assert {key: workshop[key] for key in list(workshop)[:20]} == {
        "occasion": "event",
        "reference": "1",
        "title": "Maintenance workshop",
        "first_day": "2026-01-10",
        "last_day": "2026-01-10",
        "participants_from": "check_ins",
        "window_days": "30",
        "window_ends": "2026-02-09",
        "complete": "yes",
        "kinds": "all",
        "participants": "3",
        "converted": "2",
        "share": "0.6667",
        "conversions": "2",
        "amount": "150800.00",
        "others": "4",
        "others_converted": "1",
        "others_share": "0.25",
        "others_standardised_share": "0.3333",
        "others_covered": "3",
    }
    assert (workshop["others_uplift_pp"], workshop["holdout"]) == ("33.33", "")
    march = next(row for row in rows if row["reference"] == "2026-03")
    assert [march[key] for key in ("holdout", "holdout_converted", "holdout_uplift_pp")] == [
        "2", "0", "50.0",
    ]  # fmt: skip
    drive_90 = rows[1]
    assert (drive_90["complete"], drive_90["window_ends"]) == ("no", "2026-07-24")


async def test_conversions_are_broken_down_by_the_channel_that_brought_the_member(
    bot: BotHarness,
) -> None:
    await the_club(bot)
    async with bot.uow() as uow:
        dealer = ChannelRow(community_id=GROUP_ID, name="Dealer Pudong", created_at=TOUCHED)
        uow.session.add(dealer)
        await uow.session.flush()
        assert dealer.id is not None
        # Ann opened the dealer's link the day before she joined; Ben only after joining.
        for member_id, at in ((ANN, TOUCHED), (BEN, utc(2026, 3, 1))):
            uow.session.add(
                ChannelTouchRow(
                    community_id=GROUP_ID,
                    member_id=member_id,
                    channel_id=dealer.id,
                    touched_at=at,
                    touched_on=at.date(),
                )
            )
        await uow.commit()

    await bot.feed(says_privately(OPERATOR, "/stats conversions"))

    report = report_of(bot, OPERATOR["id"])
    # The last 30 days: Ann's service visit (700.00) by the dealer; Ben's visit (450.00) and
    # Gus's trade-in (20,000.00) direct, Ben's later touch changing nothing.
    assert (
        "<b>By channel</b> (the channel that brought the member)\n"
        "#1 Dealer Pudong: 1 · 700.00 (members brought: 1)\n"
        "Direct (no channel): 2 · 20,450.00 (members brought: 7)"
    ) in report
