"""The feedback box through the real dispatcher: members write, operators read and answer,
floods are refused, and only the operators of the member's community see it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.feedback_box import FeedbackItemRow
from tests.conftest import BotHarness, make_harness
from tests.handlers.common import (
    ALICE,
    CAROL,
    GROUP_ID,
    NOW,
    OPERATOR,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    admins,
    at,
    bot_serves_group,
    buttons,
    callback_answers,
    delivered,
    members_of,
    presses,
    rows,
    says_privately,
    starts_the_bot,
    stored_strings,
)
from tests.telegram import Call

EVE = updates.user(105, "Eve", username="eve")
NOT_AN_OPERATOR = "This command is for the community's operators."
WAITING = "📬 Feedback is waiting in <b>Pudong Owners</b>"
PHOTO = [
    {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
    {"file_id": "dashboard", "file_unique_id": "d", "width": 1280, "height": 960},
]


@pytest.fixture
async def bot(sqlite_url: str, clock: Any) -> AsyncIterator[BotHarness]:
    """Alice and Eve are members of Adam's group and started the bot; so did Olga, a
    configured operator. Carol runs another group."""
    harness = await make_harness(sqlite_url, clock, operator_ids="7", welcome_batch_seconds=0)
    harness.session.admins[OTHER_GROUP_ID] = admins(CAROL)
    await bot_serves_group(harness)
    await bot_serves_group(harness, chat=OTHER_GROUP)
    await members_of(harness, ALICE, EVE)
    await starts_the_bot(harness, ALICE, EVE, OPERATOR, CAROL)
    harness.session.clear()
    yield harness
    await harness.hearth.on_shutdown()


def writes(person: dict[str, Any], text: str, number: int, **extra: Any) -> dict[str, Any]:
    """``person`` sends ``text`` in private as their message number ``number``."""
    return says_privately(person, text, message_id=number, **extra)


def photo_from(person: dict[str, Any], caption: str, number: int) -> dict[str, Any]:
    entities = []
    if caption.startswith("/"):
        entities = [{"type": "bot_command", "offset": 0, "length": len(caption.split()[0])}]
    return updates.message(
        updates.private(person),
        person,
        None,
        NOW,
        message_id=number,
        photo=PHOTO,
        caption=caption,
        caption_entities=entities,
    )


async def items(bot: BotHarness) -> list[FeedbackItemRow]:
    return sorted(await rows(bot, FeedbackItemRow), key=lambda row: row.id or 0)


async def notes_delivered(bot: BotHarness, after: timedelta = timedelta(minutes=6)) -> None:
    """Let the operators' coalesced notes fall due, then deliver everything."""
    bot.hearth.clock.set(bot.hearth.clock.now() + after)  # type: ignore[attr-defined]
    await delivered(bot)


async def opens_inbox(bot: BotHarness, community_id: int = GROUP_ID) -> Call:
    """Olga (who operates both groups) sends /inbox and picks ``community_id``; the listing."""
    await bot.feed(says_privately(OPERATOR, "/inbox"))
    assert bot.session.texts_to(OPERATOR["id"])[-1] == "Which community?"
    await bot.feed(presses(OPERATOR, f"cc1:inbox:{community_id}"))
    return bot.session.messages_to(OPERATOR["id"])[-1]


def last_text(bot: BotHarness, chat_id: int) -> str:
    return bot.session.texts_to(chat_id)[-1]


async def test_feedback_reaches_the_inbox_and_the_operators_answer_reaches_the_member(
    bot: BotHarness,
) -> None:
    await bot.feed(writes(ALICE, "/feedback The parking <b>is</b> always full", 11))

    assert last_text(bot, ALICE["id"]).startswith(
        "Thank you! Your message went to the team of <b>Pudong Owners</b>."
    )
    [item] = await items(bot)
    assert (item.community_id, item.member_id, item.text, item.status) == (
        GROUP_ID,
        ALICE["id"],
        "The parking <b>is</b> always full",
        "open",
    )
    await notes_delivered(bot)
    # Olga started the bot; Adam, the chat's owner, never did: he is not written to.
    assert [text for text in bot.session.texts_to(OPERATOR["id"]) if WAITING in text] == [
        f"{WAITING}: 1 open. Send /inbox to read and answer it."
    ]
    bot.session.clear()

    listing = await opens_inbox(bot)
    assert "<b>#1</b> · Alice · 2026-03-02 09:00" in listing.text
    assert "The parking &lt;b&gt;is&lt;/b&gt; always full" in listing.text
    assert listing.button_data() == ["fb1a:1:r", "fb1a:1:c"]
    await bot.feed(presses(OPERATOR, "fb1a:1:r"))
    assert last_text(bot, OPERATOR["id"]).startswith("Write your answer to #1 in one message")
    await bot.feed(writes(OPERATOR, "We add 20 spaces next week & paint them.", 5))
    assert last_text(bot, OPERATOR["id"]) == "Sent: the member will get your answer to #1."
    await delivered(bot)

    assert bot.session.texts_to(ALICE["id"])[-1] == (
        "💬 The operators of <b>Pudong Owners</b> answered your feedback:\n\n"
        "We add 20 spaces next week &amp; paint them."
    )
    [item] = await items(bot)
    assert (item.status, item.reply, item.settled_by) == (
        "answered",
        "We add 20 spaces next week & paint them.",
        OPERATOR["id"],
    )
    assert [(row.action, row.actor_id) for row in await rows(bot, tables.AuditLog)] == [
        ("feedback.reply", OPERATOR["id"])
    ]
    assert "is empty" in (await opens_inbox(bot)).text
    # a second answer to the same item is refused; the member hears nothing more
    await bot.feed(says_privately(OPERATOR, "/reply 1 And another thing"))
    assert last_text(bot, OPERATOR["id"]) == "This feedback was answered already."


async def test_feedback_in_two_steps_with_a_photo_then_answered_by_command_or_closed(
    bot: BotHarness,
) -> None:
    await bot.feed(writes(ALICE, "/feedback", 20))
    assert last_text(bot, ALICE["id"]).startswith("What would you like to tell the team?")
    await bot.feed(photo_from(ALICE, "The dashboard light stays on", 21))
    assert "went to the team" in last_text(bot, ALICE["id"])
    await bot.feed(photo_from(EVE, "/feedback", 30))  # a photo without words is enough
    await bot.feed(writes(EVE, "/feedback", 31))
    await bot.feed(writes(EVE, "/cancel", 32))
    assert last_text(bot, EVE["id"]) == "Cancelled: nothing was sent."
    await bot.feed(writes(EVE, "just chatting", 33))  # no longer feedback
    first, second = await items(bot)
    assert (first.text, first.photo) == ("The dashboard light stays on", "dashboard")
    assert (second.member_id, second.text, second.photo) == (EVE["id"], None, "dashboard")
    bot.session.clear()

    listing = await opens_inbox(bot)
    # newest first; both carry a photo the operator can open
    assert listing.button_data() == [
        "fb1a:2:r",
        "fb1a:2:c",
        "fb1a:2:p",
        "fb1a:1:r",
        "fb1a:1:c",
        "fb1a:1:p",
    ]
    await bot.feed(presses(OPERATOR, "fb1a:1:p"))
    [photo] = bot.session.of("sendPhoto")
    assert (photo.chat_id, photo.params["photo"]) == (OPERATOR["id"], "dashboard")
    assert photo.params["caption"] == "Feedback #1\nThe dashboard light stays on"

    await bot.feed(says_privately(OPERATOR, "/reply #1 A fuse; the club garage fixes it."))
    assert last_text(bot, OPERATOR["id"]) == "Sent: the member will get your answer to #1."
    await bot.feed(presses(OPERATOR, "fb1a:2:c"))
    assert callback_answers(bot)[-1].params["text"] == "#2 is closed."
    await bot.feed(presses(OPERATOR, "fb1a:2:r"))
    assert callback_answers(bot)[-1].params["text"] == "This feedback was closed already."
    assert [row.status for row in await items(bot)] == ["answered", "closed"]
    await notes_delivered(bot)
    assert "A fuse; the club garage fixes it." in bot.session.texts_to(ALICE["id"])[-1]
    assert not [text for text in bot.session.texts_to(EVE["id"]) if "answered" in text]


async def test_feedback_flooding_is_refused_politely_and_reaches_nobody(bot: BotHarness) -> None:
    for minute in range(3):
        moment = NOW + timedelta(minutes=minute)
        await at(bot, moment, writes(ALICE, f"/feedback Idea {minute}", 1 + minute))
    await notes_delivered(bot)
    # three items within five minutes make one note for the operator
    assert [text for text in bot.session.texts_to(OPERATOR["id"]) if WAITING in text] == [
        f"{WAITING}: 3 open. Send /inbox to read and answer it."
    ]

    await at(bot, NOW + timedelta(minutes=30), writes(ALICE, "/feedback And another", 4))
    assert last_text(bot, ALICE["id"]) == (
        "You have sent 3 messages to the team within an hour. To keep their inbox readable, "
        "please wait 30 min before sending another."
    )
    await at(bot, NOW + timedelta(minutes=31), writes(ALICE, "/feedback", 5))
    assert "please wait 29 min" in last_text(bot, ALICE["id"])  # told before writing it
    assert len(await items(bot)) == 3

    # Three an hour, ten a day.
    number = 10
    for hour in (1, 2, 3):
        for minute in range(3 if hour < 3 else 1):
            moment = NOW + timedelta(hours=hour, minutes=minute)
            await at(bot, moment, writes(ALICE, f"/feedback Idea {number}", number))
            number += 1
    assert len(await items(bot)) == 10
    await at(bot, NOW + timedelta(hours=3, minutes=5), writes(ALICE, "/feedback More", 99))
    assert last_text(bot, ALICE["id"]) == (
        "You have sent 10 messages to the team within a day. To keep their inbox readable, "
        "please wait 21 h before sending another."
    )
    assert len(await items(bot)) == 10
    # the same message delivered again is not a new item, and not a refusal either
    last = number - 1
    await at(
        bot, NOW + timedelta(hours=3, minutes=6), writes(ALICE, f"/feedback Idea {last}", last)
    )
    assert last_text(bot, ALICE["id"]).startswith("I have this message already")
    assert len(await items(bot)) == 10


async def test_a_non_operator_cannot_read_answer_or_close_feedback(bot: BotHarness) -> None:
    await bot.feed(writes(ALICE, "/feedback The stickers ran out", 1))
    bot.session.clear()

    await bot.feed(says_privately(EVE, "/inbox"))
    await bot.feed(says_privately(EVE, "/reply 1 Nonsense"))
    assert bot.session.texts_to(EVE["id"]) == [NOT_AN_OPERATOR, NOT_AN_OPERATOR]
    await bot.feed(presses(EVE, "fb1a:1:c"))
    await bot.feed(presses(EVE, "fb1a:1:r"))
    await bot.feed(presses(EVE, "fb1p:-1001000000001:0"))
    assert [answer.params["text"] for answer in callback_answers(bot)] == [NOT_AN_OPERATOR] * 3
    # Carol operates another group: Alice's feedback is none of her business
    await bot.feed(says_privately(CAROL, "/inbox"))
    assert "The inbox of <b>Jinqiao Riders</b> is empty" in last_text(bot, CAROL["id"])
    await bot.feed(presses(CAROL, "fb1a:1:c"))
    await bot.feed(says_privately(CAROL, "/reply 1 Not mine to answer"))
    assert (
        callback_answers(bot)[-1].params["text"] == "There is no feedback #1 in your communities."
    )
    assert last_text(bot, CAROL["id"]) == "There is no feedback #1 in your communities."
    await bot.feed(presses(CAROL, f"fb1p:{GROUP_ID}:0"))
    assert callback_answers(bot)[-1].params["text"] == NOT_AN_OPERATOR
    [item] = await items(bot)
    assert item.status == "open"
    assert await rows(bot, tables.AuditLog) == []


async def test_a_member_of_two_communities_picks_whose_team_hears_it(bot: BotHarness) -> None:
    await members_of(bot, ALICE, chat=OTHER_GROUP)
    bot.session.clear()

    await bot.feed(writes(ALICE, "/feedback Can we ride together?", 7))
    [picker] = bot.session.messages_to(ALICE["id"])
    assert picker.text == "Which community?"
    jinqiao, pudong = picker.button_data()  # by title
    assert jinqiao.startswith(f"fb1f:{OTHER_GROUP_ID}:")
    assert await items(bot) == []
    await bot.feed(presses(ALICE, jinqiao.rsplit(":", 1)[0] + ":AAAAAAAA"))  # forged nonce
    assert "no longer valid" in callback_answers(bot)[-1].params["text"]
    await bot.feed(presses(EVE, jinqiao))  # someone else's button
    assert "no longer valid" in callback_answers(bot)[-1].params["text"]
    await bot.feed(presses(ALICE, jinqiao))
    [edit] = bot.session.of("editMessageText")
    assert "the team of <b>Jinqiao Riders</b>" in edit.text
    await bot.feed(presses(ALICE, pudong))  # the draft went with the first press
    assert "no longer valid" in callback_answers(bot)[-1].params["text"]
    [item] = await items(bot)
    assert (item.community_id, item.text) == (OTHER_GROUP_ID, "Can we ride together?")
    await notes_delivered(bot)
    assert [text for text in bot.session.texts_to(CAROL["id"]) if "Feedback is waiting" in text]
    assert not [text for text in bot.session.texts_to(OPERATOR["id"]) if WAITING in text]


async def test_feedback_outside_private_or_without_a_community_is_pointed_the_right_way(
    bot: BotHarness,
) -> None:
    from tests.handlers.common import DAVE, said

    await bot.feed(said(ALICE, "/feedback in the open"))
    assert bot.session.texts_to(GROUP_ID) == [
        "Send /feedback to me in private: only the team will read it."
    ]
    await bot.feed(writes(DAVE, "/feedback hello?", 1))  # in no community Hearth serves
    assert last_text(bot, DAVE["id"]).startswith("You are not in any community I serve yet.")
    await bot.feed(writes(ALICE, "/feedback " + "x" * 2001, 2))
    assert last_text(bot, ALICE["id"]) == "That is too long: at most 2000 characters, please."
    assert await items(bot) == []


async def forgets_herself(bot: BotHarness, person: dict[str, Any]) -> None:
    """``person`` sends /forget_me and confirms it."""
    bot.session.clear()
    await bot.feed(says_privately(person, "/forget_me"))
    [question] = bot.session.messages_to(person["id"])
    [erase] = [b["callback_data"] for b in buttons(question) if b["text"] == "Erase my data"]
    await bot.feed(presses(person, erase))


async def test_forget_me_erases_what_the_member_told_the_team(bot: BotHarness) -> None:
    await bot.feed(writes(ALICE, "/feedback My neighbour Zed parks badly", 1))
    await bot.feed(writes(EVE, "/feedback More events please", 1))
    await bot.feed(says_privately(OPERATOR, "/reply 1 Thanks Alice, we will talk to Zed"))
    await notes_delivered(bot)

    await forgets_herself(bot, ALICE)

    assert [(row.member_id, row.text) for row in await items(bot)] == [
        (EVE["id"], "More events please")
    ]
    assert not [text for text in await stored_strings(bot) if "Zed" in text]
