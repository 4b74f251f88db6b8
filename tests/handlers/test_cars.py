"""/car through the real dispatcher: a member tells their community about their car in
private, field by field, with a clear answer to what cannot be taken; the model and the
years of ownership are the questionnaire's own answers; /mydata shows the car and
/forget_me erases it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from hearth.scheduler import jobs
from hearth.simulate import updates
from hearth.storage.cars import CarProfileRow
from tests.conftest import BotHarness
from tests.handlers.common import (
    ALICE,
    BORIS,
    GROUP_ID,
    OTHER_GROUP,
    bot_serves_group,
    buttons,
    callback_answers,
    last_to,
    members_of,
    presses,
    rows,
    said,
    says_privately,
    starts_the_bot,
    tags_of,
)
from tests.telegram import Call


@pytest.fixture
def bot(bot_on_each_backend: BotHarness) -> BotHarness:
    """These tests run on SQLite and, when configured, on PostgreSQL."""
    return bot_on_each_backend


async def club(bot: BotHarness) -> None:
    """Alice and Boris are members of the group and started the bot."""
    await bot_serves_group(bot)
    await members_of(bot, ALICE, BORIS)
    await starts_the_bot(bot, ALICE, BORIS)
    bot.session.clear()


async def cars(bot: BotHarness) -> list[CarProfileRow]:
    return await rows(bot, CarProfileRow)


def labels(call: Call) -> list[str]:
    return [button["text"] for button in buttons(call)]


async def press(bot: BotHarness, person: updates.JsonDict, label: str) -> Call:
    """Press the button labelled ``label`` on the last message with one."""
    shown = [call for call in bot.session.calls if call.chat_id == person["id"] and buttons(call)]
    [data] = [b["callback_data"] for b in buttons(shown[-1]) if b["text"] == label]
    await bot.feed(presses(person, data))
    return last_to(bot, person)


async def clear(bot: BotHarness, person: updates.JsonDict, field: str) -> Call:
    """Press the clear button beside ``field``'s on the last card."""
    shown = [call for call in bot.session.calls if call.chat_id == person["id"] and buttons(call)]
    [row] = [
        row
        for row in shown[-1].params["reply_markup"]["inline_keyboard"]
        if row[0]["text"] == f"✏️ {field}"
    ]
    assert row[1]["text"] == "🗑 Clear"
    await bot.feed(presses(person, row[1]["callback_data"]))
    return last_to(bot, person)


async def enter(bot: BotHarness, person: updates.JsonDict, field: str, value: str) -> Call:
    """Open /car, press the field's button and type ``value``; the last answer."""
    await bot.feed(says_privately(person, "/car"))
    await press(bot, person, f"✏️ {field}")
    await bot.feed(says_privately(person, value))
    return last_to(bot, person)


def alert(bot: BotHarness) -> str:
    return str(callback_answers(bot)[-1].params.get("text", ""))


# -- the card


async def test_car_shows_an_empty_card_with_a_button_per_field(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(says_privately(ALICE, "/car"))

    card = last_to(bot, ALICE)
    assert "🚗 <b>Your car in Pudong Owners</b>" in card.text
    assert "You have not told us about your car yet" in card.text
    assert "Pudong Owners does not send maintenance reminders yet." in card.text
    assert labels(card) == [
        "✏️ Model",
        "✏️ Model year",
        "✏️ Bought on",
        "✏️ Mileage",
        "✏️ Last service",
        "✏️ Mileage at the last service",
        "🔕 Stop maintenance reminders",
    ]


async def test_car_in_the_group_points_to_the_private_chat(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(said(ALICE, "/car"))

    [reply] = bot.session.messages_to(GROUP_ID)
    assert reply.text == "Your car is your business: send /car to me in private."
    assert await cars(bot) == []


async def test_a_member_of_two_communities_picks_one_first(bot: BotHarness) -> None:
    await club(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    await members_of(bot, ALICE, chat=OTHER_GROUP)

    await bot.feed(says_privately(ALICE, "/car"))
    assert sorted(labels(last_to(bot, ALICE))) == ["Jinqiao Riders", "Pudong Owners"]
    card = await press(bot, ALICE, "Jinqiao Riders")

    assert "Your car in Jinqiao Riders" in card.text


# -- entering and clearing


async def test_the_model_entered_is_the_questionnaires_model_answer(bot: BotHarness) -> None:
    await club(bot)

    answer = await enter(bot, ALICE, "Model", "  Model   Y ")

    assert "Saved." in bot.session.texts_to(ALICE["id"])
    assert "Model: <b>Model Y</b>" in answer.text
    assert await tags_of(bot, ALICE) == ["model:model-y"]
    [stored] = await cars(bot)
    assert stored.model == "Model Y"


async def test_the_questionnaires_model_answer_shows_and_the_car_replaces_it(
    bot: BotHarness,
) -> None:
    await club(bot)
    await bot.feed(says_privately(ALICE, "/profile"))
    await press(bot, ALICE, "✏️ Which car do you drive?")
    await press(bot, ALICE, "SUV")

    await bot.feed(says_privately(ALICE, "/car"))
    assert "Model: <b>SUV</b> (your /profile answer)" in last_to(bot, ALICE).text

    answer = await enter(bot, ALICE, "Model", "Golf GTI")

    assert "Model: <b>Golf GTI</b>" in answer.text
    assert await tags_of(bot, ALICE) == ["model:golf-gti"]  # one model answer, not two


async def test_the_purchase_day_gives_the_ownership_answer_and_clearing_takes_it_off(
    bot: BotHarness,
) -> None:
    await club(bot)

    answer = await enter(bot, ALICE, "Bought on", "2023-03-03")  # two years before 2 March

    assert "Bought on: 2023-03-03" in answer.text
    assert await tags_of(bot, ALICE) == ["owner-years:1-3-years"]
    cleared = await clear(bot, ALICE, "Bought on")
    assert alert(bot) == "Cleared: Bought on."
    assert "You have not told us about your car yet" in cleared.text
    assert await tags_of(bot, ALICE) == []


async def test_the_ownership_answer_moves_on_as_the_years_pass(bot: BotHarness) -> None:
    await club(bot)
    await enter(bot, ALICE, "Bought on", "2025-03-03")
    assert await tags_of(bot, ALICE) == ["owner-years:less-than-a-year"]

    bot.hearth.clock.set(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    notices = bot.hearth.service_notices
    assert notices is not None
    await jobs.service_reminders(bot.hearth.uow_factory, notices, bot.hearth.clock)

    assert await tags_of(bot, ALICE) == ["owner-years:1-3-years"]


async def test_each_field_refuses_bad_input_clearly_changes_nothing_and_takes_good_input(
    bot: BotHarness,
) -> None:
    await club(bot)
    cases = [
        ("Model", "!!!", "Send the model's name: letters or digits, at most 40 characters.",
         "Model Y", "Model: <b>Model Y</b>"),
        ("Model year", "1949", "The model year must be from 1950 to 2027.",
         "2021", "Model year: 2021"),
        ("Model year", "21", "Send the model year as four digits, e.g. 2021.",
         "2022", "Model year: 2022"),
        ("Bought on", "2026-03-03", "That day is still to come: send a day up to today "
         "(2026-03-02).", "2022-05-01", "Bought on: 2022-05-01"),
        ("Bought on", "1.5.2022", "Send the date as YYYY-MM-DD, e.g. 2024-05-30.",
         "2022-05-01", "Bought on: 2022-05-01"),
        ("Mileage", "lots", "Send the kilometres as a whole number, e.g. 23500.",
         "23,500", "Mileage: about 23,500 km (entered 2026-03-02)"),
        ("Mileage", "2000001", "The mileage must be from 0 to 2,000,000 km.",
         "23500 km", "Mileage: about 23,500 km (entered 2026-03-02)"),
        ("Last service", "2025-02-30", "Send the date as YYYY-MM-DD, e.g. 2024-05-30.",
         "2025-10-01", "Last service: 2025-10-01"),
        ("Mileage at the last service", "30000",
         "That is more than the mileage you entered since: check both numbers.",
         "18000", "Last service: 2025-10-01, at 18,000 km"),
    ]  # fmt: skip
    for field, bad, why, good, shown in cases:
        await bot.feed(says_privately(ALICE, "/car"))
        await press(bot, ALICE, f"✏️ {field}")
        before = [row.model_dump() for row in await cars(bot)]

        await bot.feed(says_privately(ALICE, bad))

        refusal = last_to(bot, ALICE).text
        assert refusal == f"{why}\nTry again, or send /cancel.", field
        assert [row.model_dump() for row in await cars(bot)] == before, field
        await bot.feed(says_privately(ALICE, good))  # the dialog still waits for the field
        assert shown in last_to(bot, ALICE).text, field


async def test_clearing_a_field_forgets_it(bot: BotHarness) -> None:
    await club(bot)
    await enter(bot, ALICE, "Model year", "2021")
    await enter(bot, ALICE, "Mileage", "23500")

    card = await clear(bot, ALICE, "Model year")
    assert "Model year: —" in card.text
    assert "Mileage: about 23,500 km" in card.text

    card = await clear(bot, ALICE, "Mileage")
    assert "You have not told us about your car yet" in card.text
    [stored] = await cars(bot)
    assert (stored.mileage_km, stored.mileage_on) == (None, None)


async def test_cancel_stops_typing_and_changes_nothing(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(says_privately(ALICE, "/car"))
    await press(bot, ALICE, "✏️ Model year")

    await bot.feed(says_privately(ALICE, "/cancel"))
    await bot.feed(says_privately(ALICE, "2021"))

    assert "Stopped: nothing was changed." in bot.session.texts_to(ALICE["id"])
    assert await cars(bot) == []


async def test_a_next_service_is_shown_once_a_service_day_is_known(bot: BotHarness) -> None:
    await club(bot)

    card = await enter(bot, ALICE, "Last service", "2025-10-01")

    # 10,000 km at 40 km a day: 250 days after 1 October 2025 is 8 June 2026.
    assert "Next service: around <b>2026-06-08</b> (every 10,000 km, at about 40 km a day)." in (
        card.text
    )


# -- data rights


async def test_mydata_shows_the_car_in_the_text_and_the_file(bot: BotHarness) -> None:
    await club(bot)
    await enter(bot, ALICE, "Model", "Model Y")
    await enter(bot, ALICE, "Last service", "2025-10-01")
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/mydata"))

    [text] = bot.session.texts_to(ALICE["id"])
    assert "📄 <b>What I hold about you</b>" in text
    assert "Car: Model Y, last service 2025-10-01; maintenance reminders on" in text
    assert "model:model-y" in text
    [document] = bot.session.of("sendDocument")
    data = json.loads(next(iter(document.uploads.values())))
    [community] = data["communities"]
    assert community["car"]["model"] == "Model Y"
    assert community["car"]["last_service_on"] == "2025-10-01"


async def test_forget_me_erases_the_car(bot: BotHarness) -> None:
    await club(bot)
    await enter(bot, ALICE, "Model", "Model Y")
    await enter(bot, ALICE, "Mileage", "23500")
    await enter(bot, BORIS, "车型", "Golf")  # Boris reads Chinese

    await bot.feed(says_privately(ALICE, "/forget_me"))
    await press(bot, ALICE, "Erase my data")

    assert [row.member_id for row in await cars(bot)] == [BORIS["id"]]
    assert await tags_of(bot, ALICE) == []
    assert await tags_of(bot, BORIS) == ["model:golf"]
