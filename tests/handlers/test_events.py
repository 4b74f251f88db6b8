"""Events through the real dispatcher: the dialog, RSVPs with a waitlist, the coalesced card,
reminders, attendance codes, feedback and NPS, cancelling, and operators only."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from hearth.scheduler import jobs
from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.events import EventRow, RsvpRow
from hearth.storage.outbox import OutboxRow
from tests.conftest import BotHarness, make_harness
from tests.handlers.common import (
    ALICE,
    BORIS,
    CAROL,
    GROUP,
    GROUP_ID,
    NOW,
    OPERATOR,
    activity,
    at,
    balance,
    bot_serves_group,
    buttons,
    callback_answers,
    ledger,
    members_of,
    presses,
    rows,
    says_privately,
    starts_the_bot,
)

EVE = updates.user(105, "Eve", username="eve")  # never took part in the group


@pytest.fixture
async def bot(sqlite_url: str, clock: Any) -> AsyncIterator[BotHarness]:
    harness = await make_harness(sqlite_url, clock, operator_ids="7", welcome_batch_seconds=0)
    await bot_serves_group(harness)
    await members_of(harness, ALICE, BORIS, CAROL)
    harness.session.clear()
    yield harness
    await harness.hearth.on_shutdown()


def last_text_to(bot: BotHarness, chat_id: int) -> str:
    sent = [
        call
        for call in bot.session.calls
        if call.method in ("sendMessage", "editMessageText", "sendPhoto")
        and call.chat_id == chat_id
    ]
    last = sent[-1]
    return str(last.params.get("text") or last.params.get("caption") or "")


async def operator_says(bot: BotHarness, *answers: str) -> list[str]:
    """The operator sends each answer in private; the bot's answer to each, in order."""
    replies = []
    for answer in answers:
        await bot.feed(says_privately(OPERATOR, answer))
        replies.append(last_text_to(bot, OPERATOR["id"]))
    return replies


async def create_event(
    bot: BotHarness,
    *,
    title: str = "Spring drive",
    when: str = "2026-03-10 14:00-17:00",
    capacity: str = "/skip",
    points: str = "/skip",
) -> int:
    """Walk the whole dialog and publish; the new event's number."""
    await operator_says(
        bot, "/event_new", title, "/skip", "Lakeside car park", when, capacity, "/skip", points
    )
    await operator_says(bot, "/skip")  # no photo
    preview = bot.session.messages_to(OPERATOR["id"])[-1]
    publish, _discard = preview.button_data()
    await bot.feed(presses(OPERATOR, publish))
    stored = await rows(bot, EventRow)
    return max(row.id for row in stored)


async def code_of(bot: BotHarness, event_id: int) -> str:
    [event] = [row for row in await rows(bot, EventRow) if row.id == event_id]
    return str(event.code)


async def outbox(bot: BotHarness, kind: str) -> list[OutboxRow]:
    return [row for row in await rows(bot, OutboxRow) if row.kind == kind]


def group_press(person: dict[str, Any], data: str) -> dict[str, Any]:
    """``person`` presses a button of the card in the group."""
    return updates.callback_query(person, data, NOW, chat=GROUP)


async def test_the_dialog_refuses_bad_answers_and_publishes_a_card_with_rsvp_buttons(
    bot: BotHarness,
) -> None:
    replies = await operator_says(
        bot,
        "/event_new",
        "/skip",  # a title is needed
        "Spring <drive>",
        "/skip",
        "Lakeside car park, gate 2",
        "2026-03-01 14:00",  # in the past
        "next Tuesday",
        "2026-03-10 14:00-13:00",  # ends before it starts
        "2026-03-10 14:00",  # only a start: the end is asked
        "12:00",  # before the start
        "17:30",
        "lots",  # capacity not a number
        "30",
        "2026-03-11 10:00",  # registration closing after the start
        "2026-03-09 20:00",
        "many",
        "50",
        "/skip",  # no photo
    )
    assert replies[0].startswith("Let's create an event.")
    assert replies[1].startswith("This step cannot be skipped.")
    assert replies[5] == "That moment has already passed. Please send a time in the future."
    assert replies[6].startswith("I could not read that date and time.")
    assert replies[7] == "The end must come after the start."
    assert replies[8].startswith("When does it end?")
    assert replies[9] == "The end must come after the start."
    assert replies[11].startswith("The number of seats must be a whole number")
    assert replies[13] == "Registration must close no later than the start."
    assert replies[15] == "The points must be a whole number from 0 to 10,000."
    preview = replies[17]
    assert "Spring &lt;drive&gt;" in preview
    assert "2026-03-10 14:00–17:30 (UTC)" in preview
    assert "Registration closes 2026-03-09 20:00." in preview
    assert "50 points" in preview
    assert "Seats: 30" in preview
    assert await rows(bot, EventRow) == []  # nothing stored before Publish

    publish, _discard = bot.session.messages_to(OPERATOR["id"])[-1].button_data()
    bot.session.clear()
    await bot.feed(presses(OPERATOR, publish))
    [card] = bot.session.messages_to(GROUP_ID)
    assert "Spring &lt;drive&gt;" in card.text
    assert "Going: 0/30" in card.text
    assert card.button_data() == ["ev1r:1:g", "ev1r:1:m", "ev1r:1:n"]
    [event] = await rows(bot, EventRow)
    assert event.card_message_id is not None
    assert event.capacity == 30
    assert event.points == 50
    published = bot.session.texts_to(OPERATOR["id"])[-1]
    assert f"Attendance code: <code>{event.code}</code>" in published
    [qr] = bot.session.of("sendPhoto")
    assert qr.chat_id == OPERATOR["id"]
    assert event.code in qr.params["caption"]
    [audit] = await rows(bot, tables.AuditLog)
    assert audit.action == "event.create"
    assert audit.actor_id == OPERATOR["id"]
    # The button was used: pressing it again publishes nothing more.
    await bot.feed(presses(OPERATOR, publish))
    assert "no longer valid" in callback_answers(bot)[-1].params["text"]
    assert len(await rows(bot, EventRow)) == 1


async def test_cancel_abandons_the_dialog_and_other_commands_keep_working(
    bot: BotHarness,
) -> None:
    replies = await operator_says(bot, "/event_new", "Meet-up", "/help", "/cancel", "Hello")
    assert "For operators" in replies[2]
    assert replies[3] == "Event discarded: nothing was published."
    assert replies[4].startswith("I did not understand that.")
    assert await rows(bot, EventRow) == []


async def test_members_are_refused_operator_commands_and_buttons(bot: BotHarness) -> None:
    await create_event(bot)
    bot.session.clear()
    for command in ("/event_new", "/event_report 1", "/event_cancel 1", "/event_code 1"):
        await bot.feed(says_privately(ALICE, command))
        assert bot.session.texts_to(ALICE["id"])[-1] == (
            "This command is for the community's operators."
        )
    await bot.feed(presses(ALICE, "ev1p:AAAAAAAA:1"))
    assert callback_answers(bot)[-1].params["text"] == (
        "This command is for the community's operators."
    )
    [event] = await rows(bot, EventRow)
    assert event.status == "scheduled"


async def test_a_full_event_waitlists_and_moves_the_first_waiting_member_up(
    bot: BotHarness,
) -> None:
    await starts_the_bot(bot, CAROL)
    event_id = await create_event(bot, capacity="2")
    bot.session.clear()
    await bot.feed(group_press(ALICE, f"ev1r:{event_id}:g"))
    assert callback_answers(bot)[-1].params["text"] == ("You're going! 1 of 2 seats are taken.")
    await bot.feed(group_press(BORIS, f"ev1r:{event_id}:g"))
    await bot.feed(group_press(CAROL, f"ev1r:{event_id}:g"))
    waitlisted = callback_answers(bot)[-1].params
    assert "you are number 1 on the waitlist" in waitlisted["text"]
    assert waitlisted["show_alert"] is True
    await bot.feed(group_press(EVE, f"ev1r:{event_id}:g"))  # joins the group by pressing
    await bot.feed(presses(updates.user(106, "Frank"), f"ev1r:{event_id}:g"))  # a stranger
    assert (
        callback_answers(bot)[-1]
        .params["text"]
        .startswith("This event is for members of its community.")
    )
    # Boris steps back: Carol, first on the waitlist, moves up and is told in private.
    await bot.feed(group_press(BORIS, f"ev1r:{event_id}:n"))
    statuses = {row.member_id: row.status for row in await rows(bot, RsvpRow)}
    assert statuses == {
        ALICE["id"]: "going",
        BORIS["id"]: "not_going",
        CAROL["id"]: "going",
        EVE["id"]: "waitlisted",
    }
    [moved_up] = await outbox(bot, "event_moved_up")
    assert moved_up.chat_id == CAROL["id"]
    assert not bot.session.of("editMessageText")  # the card waits for its window
    await bot.hearth.delivery.drain()
    assert "A seat freed up: you are now going to <b>Spring drive</b>" in last_text_to(
        bot, CAROL["id"]
    )
    assert len(await activity(bot, "rsvp")) == 5


async def test_many_answers_become_one_edit_of_the_card(bot: BotHarness) -> None:
    event_id = await create_event(bot)
    bot.session.clear()
    for person in (ALICE, BORIS, CAROL):
        await bot.feed(group_press(person, f"ev1r:{event_id}:g"))
    await bot.feed(group_press(BORIS, f"ev1r:{event_id}:m"))
    [card_edit] = await outbox(bot, "event_card")  # four changes, one queued edit
    assert "Going: 2 · 🤔 Maybe: 1" in json.loads(card_edit.payload)["text"]
    await bot.hearth.delivery.drain()
    assert bot.session.of("editMessageText") == []  # not before its window closes
    bot.hearth.clock.set(NOW + timedelta(seconds=30))  # type: ignore[attr-defined]
    await bot.hearth.delivery.drain()
    [sent] = bot.session.of("editMessageText")
    assert sent.chat_id == GROUP_ID
    assert "Going: 2 · 🤔 Maybe: 1" in sent.text
    assert sent.button_data() == [f"ev1r:{event_id}:g", f"ev1r:{event_id}:m", f"ev1r:{event_id}:n"]
    # A later answer starts a new window: a second edit, never a lost one.
    await bot.feed(group_press(ALICE, f"ev1r:{event_id}:n"))
    assert len(await outbox(bot, "event_card")) == 2


async def test_reminders_go_once_and_only_to_members_who_started_the_bot(
    bot: BotHarness,
) -> None:
    await starts_the_bot(bot, ALICE)
    event_id = await create_event(bot, when="2026-03-05 18:00-20:00")
    for person in (ALICE, BORIS):
        await bot.feed(group_press(person, f"ev1r:{event_id}:g"))
    start = NOW.replace(day=5, hour=18)
    hearth = bot.hearth

    async def run_job(moment: Any) -> int:
        hearth.clock.set(moment)  # type: ignore[attr-defined]
        return await jobs.event_reminders(
            hearth.uow_factory, hearth.event_notices, hearth.clock, (24, 1)
        )

    assert await run_job(start - timedelta(hours=30)) == 0  # not yet
    assert await run_job(start - timedelta(hours=23, minutes=55)) == 1  # Alice, not Boris
    assert await run_job(start - timedelta(hours=23, minutes=50)) == 0  # never twice
    assert await run_job(start - timedelta(minutes=55)) == 1
    assert await run_job(start - timedelta(minutes=50)) == 0
    reminders = await outbox(bot, "event_reminder")
    assert [row.chat_id for row in reminders] == [ALICE["id"], ALICE["id"]]
    await hearth.delivery.drain()
    texts = bot.session.texts_to(ALICE["id"])[-2:]
    assert texts[0].startswith("⏰ Tomorrow: <b>Spring drive</b>")
    assert texts[1].startswith("⏰ Starting soon: <b>Spring drive</b>")
    assert bot.session.texts_to(BORIS["id"]) == []


async def test_a_late_registration_is_reminded_of_today_not_tomorrow(bot: BotHarness) -> None:
    await starts_the_bot(bot, ALICE)
    event_id = await create_event(bot, when="2026-03-05 20:00-22:00")  # UTC community
    morning = NOW.replace(day=5, hour=1)  # 19 hours before, on the same day
    await at(bot, morning, group_press(ALICE, f"ev1r:{event_id}:g"))
    hearth = bot.hearth

    assert (
        await jobs.event_reminders(hearth.uow_factory, hearth.event_notices, hearth.clock, (24, 1))
        == 1
    )
    await hearth.delivery.drain()

    (reminder,) = [text for text in bot.session.texts_to(ALICE["id"]) if text.startswith("⏰")]
    assert reminder.startswith("⏰ Today: <b>Spring drive</b>")


async def test_attendance_codes_wrong_code_other_event_and_second_use(bot: BotHarness) -> None:
    today = await create_event(bot, title="Morning coffee", when="2026-03-02 09:30-11:00")
    later = await create_event(bot, title="Track day", when="2026-03-20 08:00-18:00")
    code, other_code = await code_of(bot, today), await code_of(bot, later)
    before = await balance(bot, ALICE)
    bot.session.clear()

    async def alice_sends(text: str) -> str:
        await bot.feed(says_privately(ALICE, text))
        return bot.session.texts_to(ALICE["id"])[-1]

    assert await alice_sends("/attend") == (
        "Send the code shown at the event, e.g. /attend K7M3QX, or scan the event's QR code."
    )
    assert (await alice_sends("/attend AAAAAA")).startswith("I don't know the code AAAAAA.")
    assert (await alice_sends(f"/attend {other_code}")).startswith(
        "That code is for <b>Track day</b> (2026-03-20 08:00–18:00 (UTC)). "
        "Check-in opens at 2026-03-20 07:00"
    )
    assert (await alice_sends(f"/attend {code.lower()}")).startswith(
        "✅ You're checked in at <b>Morning coffee</b>: +20 points"
    )
    assert (await alice_sends(code)).startswith(  # the bare code works too
        "You are already checked in at <b>Morning coffee</b>; its points were credited once."
    )
    assert await balance(bot, ALICE) == before + 20
    assert [entry for entry in await ledger(bot, ALICE) if entry[2] == "event"] == [
        ("earn", 20, "event")
    ]
    # The QR code's deep link checks Carol in (greeting her first: she never started me), once.
    await bot.feed(says_privately(CAROL, f"/start a{code}"))
    await bot.feed(says_privately(CAROL, f"/start a{code}"))
    carol = bot.session.texts_to(CAROL["id"])
    assert carol[0].startswith("Welcome, Carol!")
    assert carol[1].startswith("✅ You're checked in at <b>Morning coffee</b>")
    assert carol[2].startswith("You are already checked in")
    assert await balance(bot, CAROL) == 20
    assert len(await activity(bot, "attendance")) == 2
    # Someone not in the community is refused politely.
    await bot.feed(says_privately(EVE, f"/attend {code}"))
    assert bot.session.texts_to(EVE["id"])[-1].startswith("This event is for members")
    # Too late: the window closed three hours after the end.
    await at(bot, NOW.replace(hour=14, minute=1), says_privately(ALICE, f"/attend {code}"))
    assert "whose check-in closed at 2026-03-02 14:00" in bot.session.texts_to(ALICE["id"])[-1]


async def test_feedback_is_asked_after_the_event_and_reported_with_nps(bot: BotHarness) -> None:
    await starts_the_bot(bot, ALICE, BORIS, CAROL)
    event_id = await create_event(bot, when="2026-03-02 09:30-11:00")
    code = await code_of(bot, event_id)
    for person in (ALICE, CAROL):
        await bot.feed(says_privately(person, f"/attend {code}"))
    hearth = bot.hearth
    hearth.clock.set(NOW.replace(hour=13))  # type: ignore[attr-defined]
    assert await jobs.event_feedback(hearth.uow_factory, hearth.event_notices, hearth.clock) == 0
    hearth.clock.set(NOW.replace(hour=14, minute=5))  # type: ignore[attr-defined]
    assert await jobs.event_feedback(hearth.uow_factory, hearth.event_notices, hearth.clock) == 2
    assert await jobs.event_feedback(hearth.uow_factory, hearth.event_notices, hearth.clock) == 0
    bot.session.clear()
    await hearth.delivery.drain()
    [question] = bot.session.messages_to(ALICE["id"])
    assert question.text.startswith("Thank you for coming to <b>Spring drive</b>!")
    assert question.button_data() == [f"ev1s:{event_id}:{n}" for n in range(1, 6)]

    async def answers(person: dict[str, Any], rating: int, score: int, comment: str) -> str:
        await bot.feed(presses(person, f"ev1s:{event_id}:{rating}"))
        asked = bot.session.of("editMessageText")[-1]
        assert "recommend Pudong Owners to a friend" in asked.text
        assert len(buttons(asked)) == 11
        await bot.feed(presses(person, f"ev1n:{event_id}:{score}"))
        await bot.feed(says_privately(person, comment))
        return bot.session.texts_to(person["id"])[-1]

    assert await answers(ALICE, 5, 10, "Great <drive>!") == "Thank you — the team will read it."
    assert await answers(CAROL, 3, 6, "/skip") == "Thank you for your feedback!"
    await bot.feed(presses(BORIS, f"ev1s:{event_id}:4"))  # did not come
    await bot.feed(presses(EVE, f"ev1s:{event_id}:4"))
    assert callback_answers(bot)[-1].params["text"] == (
        "Feedback is for members who checked in at the event."
    )
    assert len(await activity(bot, "feedback")) == 5
    await bot.feed(says_privately(OPERATOR, f"/event_report {event_id}"))
    report = bot.session.texts_to(OPERATOR["id"])[-1]
    assert "Checked in on site: 2" in report
    assert "Average rating: 4.0 / 5 (2 ratings)" in report
    assert "NPS: +0 (2 answers" in report  # one promoter, one detractor
    assert "• Great &lt;drive&gt;!" in report


async def test_a_bare_code_checks_in_even_while_a_comment_is_still_awaited(
    bot: BotHarness,
) -> None:
    first = await create_event(bot, title="Morning coffee", when="2026-03-02 09:30-11:00")
    second = await create_event(bot, title="Track day", when="2026-03-09 09:30-11:00")
    await bot.feed(says_privately(ALICE, f"/attend {await code_of(bot, first)}"))
    await bot.feed(presses(ALICE, f"ev1s:{first}:5"))
    await bot.feed(presses(ALICE, f"ev1n:{first}:9"))  # asked for a comment; she never writes one
    bot.session.clear()

    # A week later, on site, she sends the next event's code as a bare message.
    code = await code_of(bot, second)
    await at(bot, NOW.replace(day=9, hour=9, minute=40), says_privately(ALICE, code))

    (answer,) = bot.session.texts_to(ALICE["id"])
    assert answer.startswith("✅ You're checked in at <b>Track day</b>")


async def test_cancelling_tells_everyone_registered_and_closes_the_card(bot: BotHarness) -> None:
    await starts_the_bot(bot, ALICE)
    event_id = await create_event(bot, capacity="1")
    await bot.feed(group_press(ALICE, f"ev1r:{event_id}:g"))
    await bot.feed(group_press(BORIS, f"ev1r:{event_id}:g"))  # waitlisted, never started
    replies = await operator_says(bot, f"/event_cancel {event_id}", f"/event_cancel {event_id}")
    assert replies[0].startswith(f"Event #{event_id} <b>Spring drive</b> is cancelled. 1 ")
    assert replies[1] == f"Event #{event_id} <b>Spring drive</b> was cancelled already."
    [notice] = await outbox(bot, "event_cancelled")
    assert notice.chat_id == ALICE["id"]
    card = json.loads((await outbox(bot, "event_card"))[-1].payload)
    assert card["text"].startswith("❌ <b>Cancelled</b>")
    assert "reply_markup" not in card
    await bot.feed(group_press(CAROL, f"ev1r:{event_id}:g"))
    assert callback_answers(bot)[-1].params["text"] == "This event was cancelled."
    actions = [row.action for row in await rows(bot, tables.AuditLog)]
    assert actions == ["event.create", "event.cancel"]


async def test_editing_an_event_refreshes_the_card_and_fills_new_seats(bot: BotHarness) -> None:
    await starts_the_bot(bot, BORIS)
    event_id = await create_event(bot, capacity="1")
    await bot.feed(group_press(ALICE, f"ev1r:{event_id}:g"))
    await bot.feed(group_press(BORIS, f"ev1r:{event_id}:g"))
    replies = await operator_says(
        bot,
        f"/event_edit {event_id} capacity 2",
        f"/event_edit {event_id} when 2026-02-01 10:00",
        f"/event_edit {event_id} colour red",
        "/event_edit 99 title Something",
        f"/event_edit {event_id}",
    )
    assert replies[0].startswith(f"Event #{event_id} updated")
    assert "Going: 2/2" in replies[0]
    assert replies[1] == "That moment has already passed. Please send a time in the future."
    assert replies[2].startswith("Usage: /event_edit NUMBER FIELD VALUE")
    assert replies[3] == "There is no event #99 in your communities."
    assert replies[4].startswith("Usage: /event_edit NUMBER FIELD VALUE")
    [moved_up] = await outbox(bot, "event_moved_up")
    assert moved_up.chat_id == BORIS["id"]
    assert re.search(
        r"Going: 2/2", json.loads((await outbox(bot, "event_card"))[-1].payload)["text"]
    )


async def test_operators_tag_an_event_with_its_type_and_members_cannot(bot: BotHarness) -> None:
    event_id = await create_event(bot)
    replies = await operator_says(
        bot,
        f"/event_edit {event_id} tag Track Day",
        f"/event_edit {event_id} tag !!!",
    )
    assert replies[0].startswith(f"Event #{event_id} updated")
    assert "🏷 Type: track-day" in replies[0]
    assert replies[1] == (
        "The type is a short tag of letters or digits, like track-day; send none to take it off."
    )
    card = json.loads((await outbox(bot, "event_card"))[-1].payload)
    assert "🏷 Type: track-day" in card["text"]
    bot.session.clear()
    await bot.feed(says_privately(ALICE, f"/event_edit {event_id} tag vip"))
    assert bot.session.texts_to(ALICE["id"]) == ["This command is for the community's operators."]
    [event] = await rows(bot, EventRow)
    assert event.tag == "track-day"
    [untagged] = await operator_says(bot, f"/event_edit {event_id} tag none")
    assert "🏷" not in untagged
    [event] = await rows(bot, EventRow)
    assert event.tag is None


async def test_members_list_upcoming_events_in_private_and_answer_there(bot: BotHarness) -> None:
    await bot.feed(says_privately(ALICE, "/events"))
    assert bot.session.texts_to(ALICE["id"])[-1].startswith("No upcoming events yet.")
    event_id = await create_event(bot)
    await bot.feed(says_privately(ALICE, "/events"))
    listing = bot.session.messages_to(ALICE["id"])[-1]
    assert f"#{event_id} <b>Spring drive</b> — Pudong Owners" in listing.text
    assert "Your answer: no answer yet" in listing.text
    await bot.feed(presses(ALICE, listing.button_data()[1]))
    assert callback_answers(bot)[-1].params["text"] == "Noted: maybe."
    await bot.feed(says_privately(ALICE, "/attend"))
    await bot.feed(updates.message(GROUP, ALICE, "/attend ABCDEF", NOW))
    assert bot.session.texts_to(GROUP_ID)[-1] == "Send /attend to me in private."
