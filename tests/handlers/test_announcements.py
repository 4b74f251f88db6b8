"""Announcements and greetings through the real dispatcher: what operators and members see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hearth.simulate import updates
from tests.conftest import BotHarness, make_harness
from tests.handlers.common import (
    ALICE,
    BORIS,
    CAROL,
    GROUP_ID,
    NOW,
    OPERATOR,
    bot_serves_group,
    callback_answers,
    delivered,
    joins,
    leaves,
    members_of,
    presses,
    said,
    says_privately,
    starts_the_bot,
)
from tests.telegram import Call

# NOW is Monday 2 March 2026, 17:00 in Shanghai; 09:00 there is 01:00 UTC.
NEXT_MONDAY_NINE = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)


@pytest.fixture
async def bot(sqlite_url: str, clock: Any) -> AsyncIterator[BotHarness]:
    harness = await make_harness(
        sqlite_url,
        clock,
        operator_ids="7",
        welcome_batch_seconds=0,
        default_timezone="Asia/Shanghai",
    )
    await bot_serves_group(harness)
    yield harness
    await harness.hearth.on_shutdown()


async def at(bot: BotHarness, moment: datetime) -> None:
    """The clock reaches ``moment`` and the announcement jobs run, as the scheduler would."""
    bot.hearth.clock.set(moment)  # type: ignore[attr-defined]
    await bot.hearth.timetable.rebuild()
    await delivered(bot)


def last_text(bot: BotHarness, chat_id: int) -> str:
    calls = [
        call
        for call in bot.session.calls
        if call.method in ("sendMessage", "editMessageText") and call.chat_id == chat_id
    ]
    return calls[-1].text


def sent_to(bot: BotHarness, chat_id: int) -> list[Call]:
    return [
        call
        for call in bot.session.calls
        if call.method in ("sendMessage", "sendPhoto") and call.chat_id == chat_id
    ]


def alert(bot: BotHarness) -> str:
    return str(callback_answers(bot)[-1].params.get("text", ""))


async def compose(bot: BotHarness, text: str, when: str, audience: str = "group") -> None:
    """An operator walks through /announce and confirms."""
    await bot.feed(says_privately(OPERATOR, "/announce"))
    await bot.feed(says_privately(OPERATOR, text))
    await bot.feed(says_privately(OPERATOR, when))
    await bot.feed(presses(OPERATOR, f"an1a:{audience}"))
    await bot.feed(presses(OPERATOR, "an1k:1"))


async def test_an_operator_previews_and_confirms_a_weekly_announcement_that_fires_on_time(
    bot: BotHarness,
) -> None:
    await members_of(bot, ALICE, BORIS, CAROL)
    await starts_the_bot(bot, ALICE, CAROL)  # Boris never started the bot
    await bot.feed(says_privately(CAROL, "/announcements off"))
    assert "no longer get announcements in private" in last_text(bot, CAROL["id"])
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/announce"))
    assert "New announcement for <b>Pudong Owners</b>" in last_text(bot, OPERATOR["id"])
    bold = [{"type": "bold", "offset": 0, "length": 8}]
    await bot.feed(says_privately(OPERATOR, "Car wash <Saturday>", entities=bold))
    assert "Times are in Asia/Shanghai" in last_text(bot, OPERATOR["id"])
    await bot.feed(says_privately(OPERATOR, "every Monday 09:00"))
    prompt = bot.session.messages_to(OPERATOR["id"])[-1]
    assert prompt.text == "Who should receive it?"
    assert prompt.button_data() == ["an1a:group", "an1a:group_private"]
    await bot.feed(presses(OPERATOR, "an1a:group_private"))

    preview, summary = bot.session.messages_to(OPERATOR["id"])[-2:]
    assert preview.text == "<b>Car wash</b> &lt;Saturday&gt;"  # as the group will see it
    assert "When: every Monday at 09:00" in summary.text
    assert "First run: Mon 2026-03-09 09:00" in summary.text
    assert "Reachable in private: 1 (members who started" in summary.text  # Alice only
    assert summary.button_data() == ["an1k:1", "an1k:0"]
    await bot.feed(presses(OPERATOR, "an1k:1"))
    assert last_text(bot, OPERATOR["id"]) == (
        "✅ Announcement #1 is scheduled every Monday at 09:00. First run: Mon 2026-03-09 09:00."
    )

    await at(bot, NEXT_MONDAY_NINE - timedelta(minutes=1))
    assert sent_to(bot, GROUP_ID) == []
    await at(bot, NEXT_MONDAY_NINE)
    [group_copy] = sent_to(bot, GROUP_ID)
    assert group_copy.text == "<b>Car wash</b> &lt;Saturday&gt;"
    assert group_copy.button_data() == []
    [alice_copy] = sent_to(bot, ALICE["id"])
    assert alice_copy.text == group_copy.text
    assert alice_copy.button_data() == [f"an1o:{GROUP_ID}"]
    assert sent_to(bot, BORIS["id"]) == []
    assert sent_to(bot, CAROL["id"]) == []

    # the job running again, or the process restarting, sends nothing more
    await at(bot, NEXT_MONDAY_NINE + timedelta(minutes=3))
    assert len(sent_to(bot, GROUP_ID)) == 1
    assert len(sent_to(bot, ALICE["id"])) == 1


async def test_a_photo_announcement_for_now_goes_out_at_once_and_the_stop_button_works(
    bot: BotHarness,
) -> None:
    await members_of(bot, ALICE)
    await starts_the_bot(bot, ALICE)
    bot.session.clear()
    await bot.feed(says_privately(OPERATOR, "/announce"))
    photo = [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "big", "file_unique_id": "b", "width": 1280, "height": 960},
    ]
    await bot.feed(
        updates.message(
            updates.private(OPERATOR), OPERATOR, None, NOW, photo=photo, caption="Meet-up!"
        )
    )
    await bot.feed(says_privately(OPERATOR, "now"))
    await bot.feed(presses(OPERATOR, "an1a:group_private"))
    [preview] = bot.session.of("sendPhoto")
    assert (preview.chat_id, preview.params["photo"], preview.params["caption"]) == (
        OPERATOR["id"],
        "big",
        "Meet-up!",
    )
    assert "When: right after you confirm" in last_text(bot, OPERATOR["id"])
    await bot.feed(presses(OPERATOR, "an1k:1"))
    assert last_text(bot, OPERATOR["id"]) == (
        "✅ Announcement #1 is on its way to Pudong Owners (private copies: 1)."
    )
    await delivered(bot)
    [group_copy] = sent_to(bot, GROUP_ID)
    assert (group_copy.method, group_copy.params["photo"]) == ("sendPhoto", "big")
    [alice_copy] = sent_to(bot, ALICE["id"])
    assert alice_copy.button_data() == [f"an1o:{GROUP_ID}"]

    # one tap: no more private copies from this community
    await bot.feed(presses(ALICE, f"an1o:{GROUP_ID}"))
    assert alert(bot).startswith("Done: no more announcements in private from Pudong Owners")
    await bot.feed(presses(ALICE, f"an1o:{GROUP_ID}"))  # pressed twice: still fine
    await compose(bot, "Second one", "now", "group_private")
    await delivered(bot)
    assert len(sent_to(bot, GROUP_ID)) == 2
    assert len(sent_to(bot, ALICE["id"])) == 1


async def test_operators_list_pause_resume_and_delete_announcements(bot: BotHarness) -> None:
    await members_of(bot, ALICE)
    await compose(bot, "Daily tip", "every day 08:30")
    await compose(bot, "Monthly report", "first day of the month 10:30")
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/announcements_list"))
    listing = bot.session.messages_to(OPERATOR["id"])[-1]
    assert "<b>#1</b> · Pudong Owners · the group" in listing.text
    assert "every day at 08:30 · next: Tue 2026-03-03 08:30" in listing.text
    assert "on day 1 of every month at 10:30 · next: Wed 2026-04-01 10:30" in listing.text
    assert "<i>Daily tip</i>" in listing.text
    assert listing.button_data() == ["an1m:1:p", "an1m:1:d", "an1m:2:p", "an1m:2:d"]

    await bot.feed(presses(OPERATOR, "an1m:1:p"))
    assert alert(bot) == "Announcement #1 is paused."
    assert "⏸ paused" in last_text(bot, OPERATOR["id"])
    await bot.feed(presses(OPERATOR, "an1m:1:p"))
    assert alert(bot) == "Announcement #1 was already paused."
    tuesday = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    await at(bot, tuesday)
    assert sent_to(bot, GROUP_ID) == []  # paused

    await bot.feed(presses(OPERATOR, "an1m:1:r"))
    assert alert(bot) == "Announcement #1 is running again."
    await at(bot, tuesday + timedelta(days=1))
    assert [call.text for call in sent_to(bot, GROUP_ID)] == ["Daily tip"]

    await bot.feed(presses(OPERATOR, "an1m:1:d"))
    confirm = last_text(bot, OPERATOR["id"])
    assert confirm == "Delete announcement #1 for good? It will never go out again."
    await bot.feed(presses(OPERATOR, "an1m:1:x"))
    assert alert(bot) == "Announcement #1 is deleted."
    assert "#1" not in last_text(bot, OPERATOR["id"])
    await at(bot, tuesday + timedelta(days=2))
    assert len(sent_to(bot, GROUP_ID)) == 1  # never again
    await bot.feed(presses(OPERATOR, "an1m:1:r"))
    assert alert(bot) == "There is no such announcement in your communities any more."


async def test_bad_schedules_and_content_get_a_clear_answer_and_cancel_stops(
    bot: BotHarness,
) -> None:
    await bot.feed(says_privately(OPERATOR, "/announce"))
    await bot.feed(
        updates.message(
            updates.private(OPERATOR),
            OPERATOR,
            None,
            NOW,
            sticker={
                "file_id": "st",
                "file_unique_id": "st",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        )
    )
    assert last_text(bot, OPERATOR["id"]).startswith("Please send the announcement as text")
    await bot.feed(says_privately(OPERATOR, "Tyre check on Sunday"))
    answers = []
    for when in ("every funday 9:00", "every day", "every day 25:00", "2026-03-01 10:00"):
        await bot.feed(says_privately(OPERATOR, when))
        answers.append(last_text(bot, OPERATOR["id"]))
    assert answers[0].startswith("I could not tell on which day or days it should go out.")
    assert answers[1].startswith("Please add a time of day")
    assert answers[2].startswith("That time of day does not exist")
    assert answers[3].startswith("That time has already passed in Asia/Shanghai.")
    assert all("Examples:" in answer and "every Monday 09:00" in answer for answer in answers)
    await bot.feed(says_privately(OPERATOR, "每周一 09:00"))  # Chinese works too
    assert last_text(bot, OPERATOR["id"]) == "Who should receive it?"
    await bot.feed(says_privately(OPERATOR, "/cancel"))
    assert last_text(bot, OPERATOR["id"]) == "Cancelled: nothing was sent or scheduled."
    await bot.feed(presses(OPERATOR, "an1a:group"))  # a button of the cancelled dialog
    assert alert(bot).startswith("This button is no longer valid")
    async with bot.uow() as uow:
        assert await uow.announcements.scheduled() == []


async def test_non_operators_are_refused_and_operators_are_sent_to_private(
    bot: BotHarness,
) -> None:
    await members_of(bot, ALICE)
    await bot.feed(says_privately(ALICE, "/announce"))
    await bot.feed(says_privately(ALICE, "/announcements_list"))
    assert (
        bot.session.texts_to(ALICE["id"])[-2:]
        == ["This command is for the community's operators."] * 2
    )
    await bot.feed(presses(ALICE, "an1m:1:x"))
    assert alert(bot) == "This command is for the community's operators."
    await bot.feed(said(ALICE, "/announce"))
    assert last_text(bot, GROUP_ID) == "This command is for the community's operators."
    await bot.feed(said(OPERATOR, "/announce"))
    assert last_text(bot, GROUP_ID).startswith("Send /announce to me in private")


async def test_members_switch_private_copies_on_and_off(bot: BotHarness) -> None:
    await members_of(bot, ALICE)
    await starts_the_bot(bot, ALICE)
    await bot.feed(says_privately(ALICE, "/announcements"))
    assert last_text(bot, ALICE["id"]).startswith("Usage: /announcements on")
    await bot.feed(says_privately(ALICE, "/announcements off"))
    await compose(bot, "Quiet one", "now", "group_private")
    await bot.feed(says_privately(ALICE, "/announcements on"))
    assert "will reach you in private too" in last_text(bot, ALICE["id"])
    await compose(bot, "Loud one", "now", "group_private")
    await delivered(bot)
    assert [call.text for call in sent_to(bot, ALICE["id"]) if "one" in call.text] == ["Loud one"]


# -- greetings

A_YEAR_AGO = NOW - timedelta(days=365)  # 2 March 2025
TEN_IN_SHANGHAI = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def greetings_job(bot: BotHarness, moment: datetime) -> None:
    """The scheduler's greetings job, as wired, at ``moment``."""
    bot.hearth.clock.set(moment)  # type: ignore[attr-defined]
    job = bot.hearth.scheduler.get_job("greetings")
    assert job is not None
    await job.func(*job.args)
    await delivered(bot)


async def test_greetings_are_opt_in_and_come_once_a_year(bot: BotHarness) -> None:
    bot.hearth.clock.set(A_YEAR_AGO)  # type: ignore[attr-defined]
    await bot.feed(joins(ALICE, A_YEAR_AGO))
    await bot.feed(joins(BORIS, A_YEAR_AGO))
    await starts_the_bot(bot, ALICE, BORIS)  # Boris never opts in
    await bot.feed(says_privately(ALICE, "/birthday 13-45"))
    assert last_text(bot, ALICE["id"]).startswith("Usage: /birthday MM-DD")
    await bot.feed(says_privately(ALICE, "/birthday 03-02"))
    assert last_text(bot, ALICE["id"]) == (
        "Noted: your birthday is 03-02. Turn greetings on with /greetings on to get a "
        "message on the day."
    )
    await bot.feed(says_privately(ALICE, "/greetings on"))
    assert last_text(bot, ALICE["id"]).endswith("And on your birthday, of course.")
    await bot.feed(said(ALICE, "/birthday 03-02"))
    assert last_text(bot, GROUP_ID) == "This is personal: send /birthday to me in private."
    bot.session.clear()

    await greetings_job(bot, TEN_IN_SHANGHAI - timedelta(hours=1))  # 09:00: too early
    assert sent_to(bot, ALICE["id"]) == []
    await greetings_job(bot, TEN_IN_SHANGHAI)
    await greetings_job(bot, TEN_IN_SHANGHAI + timedelta(hours=1))  # the next hour: no repeat
    assert [call.text for call in sent_to(bot, ALICE["id"])] == [
        "🎉 Alice, today is your 1-year anniversary in Pudong Owners. Thank you for being "
        "part of it!",
        "🎂 Happy birthday, Alice! Everyone at Pudong Owners wishes you a wonderful day.",
    ]
    assert sent_to(bot, BORIS["id"]) == []

    await greetings_job(bot, TEN_IN_SHANGHAI.replace(year=2027))
    assert len(sent_to(bot, ALICE["id"])) == 4  # a year later, once more each

    await bot.feed(says_privately(ALICE, "/greetings off"))
    await greetings_job(bot, TEN_IN_SHANGHAI.replace(year=2028))
    assert len(sent_to(bot, ALICE["id"])) == 5  # only the reply to /greetings off


async def test_greetings_off_holds_in_a_community_the_member_left_and_rejoins(
    bot: BotHarness,
) -> None:
    bot.hearth.clock.set(A_YEAR_AGO)  # type: ignore[attr-defined]
    await bot.feed(joins(ALICE, A_YEAR_AGO))
    await starts_the_bot(bot, ALICE)
    await bot.feed(says_privately(ALICE, "/birthday 03-02"))
    await bot.feed(says_privately(ALICE, "/greetings on"))
    await bot.feed(leaves(ALICE, A_YEAR_AGO + timedelta(days=1)))
    await bot.feed(says_privately(ALICE, "/greetings off"))  # nothing from anyone, please
    await bot.feed(joins(ALICE, A_YEAR_AGO + timedelta(days=2)))
    bot.session.clear()

    await greetings_job(bot, TEN_IN_SHANGHAI)

    assert sent_to(bot, ALICE["id"]) == []
