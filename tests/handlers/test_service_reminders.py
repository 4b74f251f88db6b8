"""Maintenance reminders through the real dispatcher and the delivery worker: operators turn
them on, the daily job queues one private reminder per member and due day at the member's
morning, outside their quiet hours, only to members who can be written to; the buttons
book (a request that reaches the operators once), snooze for two weeks or stop; nobody
else may press them; operators see and settle the requests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hearth.domain.cars import CarProfile
from hearth.scheduler import jobs
from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.cars import ServiceRequestRow
from hearth.storage.outbox import OutboxRow
from tests.conftest import BotHarness
from tests.handlers.common import (
    ALICE,
    BORIS,
    GROUP_ID,
    OPERATOR,
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
from tests.telegram import Call

MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the group's time zone is UTC
SEND_AT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
REMINDER = (
    "🔧 <b>Pudong Owners</b>: <b>Model Y</b> is due for a service around <b>2025-11-06</b> "
    "(every 10,000 km, at about 40 km a day).\n"
    "Book it now, or tell me to remind you later. Your car details are in /car."
)


@pytest.fixture
def bot(bot_on_each_backend: BotHarness) -> BotHarness:
    """These tests run on SQLite and, when configured, on PostgreSQL."""
    return bot_on_each_backend


async def club(bot: BotHarness, *, reminders_on: bool = True) -> None:
    """Alice and Boris are members who started the bot; Alice's Model Y had its last
    service on 1 March 2025 (due by distance on 6 November 2025); the operator started the
    bot and turned maintenance reminders on."""
    await bot_serves_group(bot)
    await members_of(bot, ALICE, BORIS)
    await starts_the_bot(bot, ALICE, BORIS, OPERATOR)
    await types_into_car(bot, ALICE, "Model", "Model Y")
    await types_into_car(bot, ALICE, "Last service", "2025-03-01")
    if reminders_on:
        await bot.feed(says_privately(OPERATOR, "/service_settings on"))
    bot.session.clear()


async def types_into_car(bot: BotHarness, person: updates.JsonDict, field: str, value: str) -> None:
    await bot.feed(says_privately(person, "/car"))
    await press(bot, person, f"✏️ {field}")
    await bot.feed(says_privately(person, value))


async def press(bot: BotHarness, person: updates.JsonDict, label: str) -> None:
    """Press the button labelled ``label`` on the last message to the person with one."""
    shown = [call for call in bot.session.calls if call.chat_id == person["id"] and buttons(call)]
    [data] = [b["callback_data"] for b in buttons(shown[-1]) if b["text"] == label]
    await bot.feed(presses(person, data))


async def run_job(bot: BotHarness, at: datetime) -> int:
    bot.hearth.clock.set(at)  # type: ignore[attr-defined]
    notices = bot.hearth.service_notices
    assert notices is not None
    return await jobs.service_reminders(bot.hearth.uow_factory, notices, bot.hearth.clock)


async def deliver_at(bot: BotHarness, at: datetime) -> None:
    bot.hearth.clock.set(at)  # type: ignore[attr-defined]
    await delivered(bot)


async def reminder_rows(bot: BotHarness) -> list[OutboxRow]:
    return [row for row in await rows(bot, OutboxRow) if row.kind == "service_reminder"]


def reminders_to(bot: BotHarness, person: updates.JsonDict) -> list[Call]:
    return [call for call in bot.session.messages_to(person["id"]) if "🔧" in call.text]


def alert(bot: BotHarness) -> str:
    return str(callback_answers(bot)[-1].params.get("text", ""))


def labels(call: Call) -> list[str]:
    return [button["text"] for button in buttons(call)]


# -- the reminder


async def test_a_due_service_is_reminded_once_even_when_the_job_runs_twice(
    bot: BotHarness,
) -> None:
    await club(bot)

    assert await run_job(bot, MORNING) == 1
    assert await run_job(bot, MORNING + timedelta(hours=1)) == 0
    await deliver_at(bot, SEND_AT)

    [row] = await reminder_rows(bot)
    assert row.dedupe_key == f"service-due:{GROUP_ID}:{ALICE['id']}:2025-11-06"
    [reminder] = reminders_to(bot, ALICE)
    assert reminder.text == REMINDER
    assert labels(reminder) == [
        "📅 Book a service",
        "⏰ Remind me in 2 weeks",
        "🔕 Stop these reminders",
    ]
    assert reminders_to(bot, BORIS) == []  # no car, nothing due


async def test_nothing_is_sent_until_the_operators_turn_the_reminders_on(
    bot: BotHarness,
) -> None:
    await club(bot, reminders_on=False)

    assert await run_job(bot, MORNING) == 0

    assert await reminder_rows(bot) == []


async def test_a_member_who_never_started_the_bot_is_not_reminded(bot: BotHarness) -> None:
    await club(bot)
    carol = updates.user(103, "Carol")
    await members_of(bot, carol)  # in the group, never started the bot
    async with bot.uow() as uow:  # her car, told to the team some other way
        await uow.cars.save(CarProfile(GROUP_ID, 103, serviced_on=date(2025, 3, 1)), MORNING)
        await uow.commit()

    assert await run_job(bot, MORNING) == 1  # Alice's only

    assert [row.chat_id for row in await reminder_rows(bot)] == [ALICE["id"]]


async def test_a_member_who_stopped_the_reminders_gets_none(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(says_privately(ALICE, "/car"))
    await press(bot, ALICE, "🔕 Stop maintenance reminders")
    assert "No more maintenance reminders" in alert(bot)

    assert await run_job(bot, MORNING) == 0

    assert await reminder_rows(bot) == []
    await bot.feed(says_privately(ALICE, "/car"))
    card = bot.session.messages_to(ALICE["id"])[-1]
    assert "Maintenance reminders: off." in card.text
    assert "🔔 Maintenance reminders on" in labels(card)


async def test_in_quiet_hours_the_reminder_waits_for_the_morning(bot: BotHarness) -> None:
    await club(bot)
    night = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)  # inside the default 21:00–09:00

    assert await run_job(bot, night) == 1
    await bot.hearth.delivery.drain()

    assert reminders_to(bot, ALICE) == []  # not sent at night
    [row] = await reminder_rows(bot)
    assert row.not_before == datetime(2026, 3, 3, 10, 30, tzinfo=UTC)  # the next morning
    await deliver_at(bot, datetime(2026, 3, 3, 10, 30, tzinfo=UTC))
    assert len(reminders_to(bot, ALICE)) == 1


async def test_a_reminder_kept_past_its_deadline_is_not_sent_late(bot: BotHarness) -> None:
    await club(bot)
    await run_job(bot, MORNING)

    await deliver_at(bot, datetime(2026, 3, 2, 21, 30, tzinfo=UTC))  # quiet hours began

    assert reminders_to(bot, ALICE) == []
    [row] = await reminder_rows(bot)
    assert row.status == "expired"


async def test_snooze_reminds_again_two_weeks_later(bot: BotHarness) -> None:
    await club(bot)
    await run_job(bot, MORNING)
    await deliver_at(bot, SEND_AT)

    await press(bot, ALICE, "⏰ Remind me in 2 weeks")

    assert alert(bot) == "All right: I will remind you again on 2026-03-16."
    assert await run_job(bot, datetime(2026, 3, 15, 9, 0, tzinfo=UTC)) == 0
    assert await run_job(bot, datetime(2026, 3, 16, 9, 0, tzinfo=UTC)) == 1
    await deliver_at(bot, datetime(2026, 3, 16, 10, 30, tzinfo=UTC))
    assert len(reminders_to(bot, ALICE)) == 2
    keys = sorted(row.dedupe_key for row in await reminder_rows(bot))
    assert keys[-1] == f"service-due:{GROUP_ID}:{ALICE['id']}:2025-11-06:1"


async def test_a_new_service_day_rearms_the_reminders(bot: BotHarness) -> None:
    await club(bot)
    await run_job(bot, MORNING)
    await deliver_at(bot, SEND_AT)

    await types_into_car(bot, ALICE, "Last service", "2026-03-01")

    # the next service is due on 6 November 2026: nothing now, one reminder then
    assert await run_job(bot, datetime(2026, 3, 3, 9, 0, tzinfo=UTC)) == 0
    assert await run_job(bot, datetime(2026, 11, 6, 9, 0, tzinfo=UTC)) == 1


# -- booking


async def test_a_booking_request_reaches_the_operators_once_when_pressed_twice(
    bot: BotHarness,
) -> None:
    await club(bot)
    await run_job(bot, MORNING)
    await deliver_at(bot, SEND_AT)

    await press(bot, ALICE, "📅 Book a service")
    first = alert(bot)
    await press(bot, ALICE, "📅 Book a service")
    second = alert(bot)
    await deliver_at(bot, SEND_AT + timedelta(minutes=10))

    assert first == ("Thanks! The team has your request and will contact you to book the service.")
    assert second == "You asked already: the team will contact you."
    assert len(await rows(bot, ServiceRequestRow)) == 1
    [note] = bot.session.texts_to(OPERATOR["id"])
    assert note == (
        "🔧 Service requests are waiting in <b>Pudong Owners</b>: 1 open. Send "
        "/service_requests to see them."
    )


async def test_a_booking_link_turns_the_book_button_into_the_link(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(
        says_privately(OPERATOR, "/service_settings booking https://dealer.example/book")
    )

    await run_job(bot, MORNING)
    await deliver_at(bot, SEND_AT)

    [reminder] = reminders_to(bot, ALICE)
    assert reminder.button_urls() == ["https://dealer.example/book"]


async def test_another_members_press_is_refused(bot: BotHarness) -> None:
    await club(bot)
    await run_job(bot, MORNING)
    await deliver_at(bot, SEND_AT)
    [reminder] = reminders_to(bot, ALICE)
    book, snooze, stop = (button["callback_data"] for button in buttons(reminder))

    for data in (book, snooze, stop):
        await bot.feed(presses(BORIS, data))
        assert alert(bot) == "这条提醒是发给别人的。"  # Boris reads Chinese

    assert await rows(bot, ServiceRequestRow) == []
    async with bot.uow() as uow:
        mine = await uow.cars.get(GROUP_ID, ALICE["id"])
    assert mine is not None
    assert (mine.reminders_on, mine.snoozes) == (True, 0)


# -- operators


async def test_operators_change_the_settings_and_each_change_is_audited(
    bot: BotHarness,
) -> None:
    await club(bot, reminders_on=False)

    await bot.feed(says_privately(OPERATOR, "/service_settings"))
    shown = bot.session.texts_to(OPERATOR["id"])[-1]
    assert "Off: nobody is reminded. They are off until you turn them on" in shown
    for change in ("on", "months 6", "km 15000", "model Model Y 12 20000", "booking off"):
        await bot.feed(says_privately(OPERATOR, f"/service_settings {change}"))

    shown = bot.session.texts_to(OPERATOR["id"])[-1]
    assert "Interval: every 6 months or 15,000 km, whichever comes first." in shown
    assert "• Model Y: every 12 months or 20,000 km, whichever comes first" in shown
    actions = [row.action for row in await rows(bot, tables.AuditLog)]
    assert [a for a in actions if a.startswith("service.")] == [
        "service.switch",
        "service.interval",
        "service.interval",
        "service.model",
        "service.booking",
    ]


async def test_bad_settings_are_explained_and_change_nothing(bot: BotHarness) -> None:
    await club(bot, reminders_on=False)

    await bot.feed(says_privately(OPERATOR, "/service_settings months 0"))
    await bot.feed(says_privately(OPERATOR, "/service_settings booking http://dealer.example"))

    first, second = bot.session.texts_to(OPERATOR["id"])
    assert first.startswith("The months between services must be a whole number from 1 to 60.")
    assert second.startswith("The booking link must be an https:// address (or off).")
    async with bot.uow() as uow:
        assert not (await uow.cars.settings(GROUP_ID)).configured


async def test_service_settings_in_the_group_is_sent_to_the_private_chat(
    bot: BotHarness,
) -> None:
    await club(bot, reminders_on=False)
    bot.session.admins[GROUP_ID] = [{**OPERATOR, "status": "creator"}]

    await bot.feed(said(OPERATOR, "/service_settings on"))

    assert bot.session.texts_to(GROUP_ID) == [
        "Send /service_settings or /service_requests to me in private."
    ]


async def test_operators_see_open_requests_and_mark_them_done(bot: BotHarness) -> None:
    await club(bot)
    await run_job(bot, MORNING)
    await deliver_at(bot, SEND_AT)
    await press(bot, ALICE, "📅 Book a service")
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/service_requests"))
    [listing] = bot.session.messages_to(OPERATOR["id"])
    [request] = await rows(bot, ServiceRequestRow)
    assert f"#{request.id} Alice (@alice) — Model Y, due 2025-11-06, asked 2026-03-02" in (
        listing.text
    )
    await press(bot, OPERATOR, f"✓ Done #{request.id}")

    assert alert(bot) == f"Request #{request.id} is done."
    [done] = await rows(bot, ServiceRequestRow)
    assert done.done_by == OPERATOR["id"]
    assert "service.request_done" in [row.action for row in await rows(bot, tables.AuditLog)]
    await bot.feed(presses(OPERATOR, f"sr1:{request.id}"))
    assert alert(bot) == "No open request of that number in a community you run."
