"""/phone through the real dispatcher: a member's number is only ever taken from Telegram's
shared-contact message of that same member; anything else is refused and stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hearth.simulate import updates
from hearth.storage.conversions import MemberContactRow
from tests.conftest import BotHarness
from tests.handlers.common import (
    ALICE,
    BORIS,
    NOW,
    bot_serves_group,
    members_of,
    presses,
    rows,
    said,
    says_privately,
    starts_the_bot,
)
from tests.telegram import Call

ALICE_PHONE = "8613812345678"  # as Telegram's contact messages carry it: no "+"


def shares(
    person: updates.JsonDict, *, phone: str = ALICE_PHONE, owner: int | None = None, **extra: Any
) -> updates.JsonDict:
    """``person`` sends a contact card in private: their own (the share button) unless
    ``owner`` says whose account it is (None in ``extra`` for a card without one)."""
    contact: dict[str, Any] = {"phone_number": phone, "first_name": "Someone"}
    account = extra.pop("user_id", owner if owner is not None else person["id"])
    if account is not None:
        contact["user_id"] = account
    return updates.message(updates.private(person), person, None, NOW, contact=contact, **extra)


async def phones(bot: BotHarness) -> dict[int, str]:
    return {row.member_id: row.phone for row in await rows(bot, MemberContactRow)}


def keyboard(call: Call) -> dict[str, Any]:
    markup = call.params.get("reply_markup")
    assert isinstance(markup, dict)
    return markup


async def test_phone_explains_why_and_offers_the_share_button(bot: BotHarness) -> None:
    await starts_the_bot(bot, ALICE)
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/phone"))

    [answer] = bot.session.messages_to(ALICE["id"])
    assert "match the service visits and purchases" in answer.text
    markup = keyboard(answer)
    [[share], [cancel]] = markup["keyboard"]
    assert share["request_contact"] is True
    assert cancel["text"] == "Cancel"
    assert markup["one_time_keyboard"] is True


async def test_the_members_own_contact_is_stored_and_the_keyboard_removed(
    bot: BotHarness,
) -> None:
    await starts_the_bot(bot, ALICE)
    await bot.feed(says_privately(ALICE, "/phone"))
    bot.session.clear()

    await bot.feed(shares(ALICE))

    assert await phones(bot) == {ALICE["id"]: "+8613812345678"}
    [answer] = bot.session.messages_to(ALICE["id"])
    assert "I keep +8613812345678" in answer.text
    assert keyboard(answer) == {"remove_keyboard": True}


async def test_someone_elses_contact_card_is_refused_and_nothing_stored(bot: BotHarness) -> None:
    await starts_the_bot(bot, ALICE)
    bot.session.clear()

    await bot.feed(shares(ALICE, owner=int(BORIS["id"])))

    assert await phones(bot) == {}
    [answer] = bot.session.texts_to(ALICE["id"])
    assert answer.startswith("I did not store it: that is someone else's contact.")


async def test_a_contact_without_an_account_is_refused(bot: BotHarness) -> None:
    await starts_the_bot(bot, ALICE)
    bot.session.clear()

    await bot.feed(shares(ALICE, user_id=None))

    assert await phones(bot) == {}
    assert "belongs to no Telegram account" in bot.session.texts_to(ALICE["id"])[0]


async def test_a_forwarded_copy_of_ones_own_contact_is_refused(bot: BotHarness) -> None:
    await starts_the_bot(bot, ALICE)
    bot.session.clear()
    origin = {"type": "user", "date": int(NOW.timestamp()), "sender_user": BORIS}

    await bot.feed(shares(ALICE, forward_origin=origin))
    await bot.feed(shares(ALICE, via_bot={**BORIS, "id": 999, "is_bot": True}))

    assert await phones(bot) == {}
    assert all("forwarded contact" in text for text in bot.session.texts_to(ALICE["id"]))


async def test_a_contact_in_the_group_stores_nothing(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    await members_of(bot, ALICE)

    card = {"phone_number": ALICE_PHONE, "first_name": "Alice", "user_id": ALICE["id"]}

    await bot.feed(said(ALICE, None, contact=card))

    assert await phones(bot) == {}


async def test_a_new_share_replaces_the_number_and_phone_off_deletes_it(bot: BotHarness) -> None:
    await starts_the_bot(bot, ALICE)
    await bot.feed(shares(ALICE))
    await bot.feed(shares(ALICE, phone="+44 7700 900123"))
    assert await phones(bot) == {ALICE["id"]: "+447700900123"}
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/phone"))
    await bot.feed(says_privately(ALICE, "/phone off"))
    await bot.feed(says_privately(ALICE, "/phone off"))

    assert await phones(bot) == {}
    shown, deleted, again = bot.session.texts_to(ALICE["id"])
    assert "You shared +447700900123" in shown
    assert deleted == "Done: I deleted your phone number."
    assert again == "You have not shared a phone number: there is nothing to delete."


async def test_the_cancel_button_stores_nothing_and_removes_the_keyboard(bot: BotHarness) -> None:
    await starts_the_bot(bot, ALICE)
    await bot.feed(says_privately(ALICE, "/phone"))
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "Cancel"))

    [answer] = bot.session.messages_to(ALICE["id"])
    assert answer.text == "Nothing was shared."
    assert keyboard(answer) == {"remove_keyboard": True}
    assert await phones(bot) == {}


async def test_mydata_shows_the_number_and_forget_me_erases_it(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    await members_of(bot, ALICE)
    await starts_the_bot(bot, ALICE)
    await bot.feed(shares(ALICE))
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/mydata"))
    [summary] = bot.session.texts_to(ALICE["id"])
    assert "Phone number: +8613812345678" in summary
    [document] = bot.session.of("sendDocument")
    assert b'"phone": "+8613812345678"' in document.uploads["document"]

    await bot.feed(says_privately(ALICE, "/forget_me"))
    buttons = bot.session.messages_to(ALICE["id"])[-1].button_data()
    [confirm] = [data for data in buttons if data.endswith(":1")]
    await bot.feed(presses(ALICE, confirm, datetime(2026, 3, 2, 9, 1, tzinfo=UTC)))

    assert await phones(bot) == {}
