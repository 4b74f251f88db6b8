"""The exit survey through the real dispatcher: a member who leaves is asked why once, ever;
the answers show in /stats and the digest, and /forget_me erases them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from hearth.simulate import updates
from hearth.storage.exit_survey import ExitSurveyRow
from tests.conftest import BotHarness, make_harness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    GROUP_ID,
    NOW,
    OPERATOR,
    at,
    bot_serves_group,
    buttons,
    callback_answers,
    delivered,
    joins,
    leaves,
    presses,
    rows,
    said,
    says_privately,
    starts_the_bot,
)
from tests.telegram import Call

EVE = updates.user(105, "Eve", username="eve")
FRANK = updates.user(106, "Frank")
QUESTION = "You left <b>Pudong Owners</b>. May I ask why?"
STALE = "This button is no longer valid. Please send the command again."


@pytest.fixture
async def bot(sqlite_url: str, clock: Any) -> AsyncIterator[BotHarness]:
    """Alice and Eve started the bot and joined Adam's group; Frank joined without ever
    starting the bot."""
    harness = await make_harness(sqlite_url, clock, operator_ids="7", welcome_batch_seconds=0)
    await bot_serves_group(harness)
    await starts_the_bot(harness, ALICE, EVE, OPERATOR)
    for person in (ALICE, EVE, FRANK):
        await harness.feed(joins(person))
    harness.session.clear()
    yield harness
    await harness.hearth.on_shutdown()


def questions_to(bot: BotHarness, person: dict[str, Any]) -> list[Call]:
    return [call for call in bot.session.messages_to(person["id"]) if QUESTION in call.text]


async def surveys(bot: BotHarness) -> dict[int, tuple[str | None, str | None]]:
    return {row.member_id: (row.reason, row.comment) for row in await rows(bot, ExitSurveyRow)}


async def test_a_member_who_leaves_is_asked_why_once_and_ever_only_once(bot: BotHarness) -> None:
    await at(bot, NOW + timedelta(hours=1), leaves(ALICE, NOW + timedelta(hours=1)))
    await delivered(bot)

    [question] = questions_to(bot, ALICE)
    assert [button["text"] for button in buttons(question)] == [
        "Too many messages",
        "Not relevant to me any more",
        "I sold my car",
        "I found another community",
        "Something else",
    ]
    assert question.button_data()[2] == f"ex1a:{GROUP_ID}:sold_car"
    await bot.feed(presses(ALICE, f"ex1a:{GROUP_ID}:sold_car"))
    [thanks] = bot.session.of("editMessageText")
    assert thanks.text.startswith("Thank you! You answered: I sold my car.")
    await bot.feed(says_privately(ALICE, "Bought an e-bike instead <3"))
    assert (
        bot.session.texts_to(ALICE["id"])[-1] == "Thank you — the team will read it. All the best!"
    )
    assert await surveys(bot) == {ALICE["id"]: ("sold_car", "Bought an e-bike instead <3")}

    # She comes back, leaves again, comes back, leaves again: nothing more is asked.
    for hours in (2, 3, 4, 5):
        moment = NOW + timedelta(hours=hours)
        change = joins(ALICE, moment) if hours % 2 == 0 else leaves(ALICE, moment)
        await at(bot, moment, change)
    await delivered(bot)
    assert len(questions_to(bot, ALICE)) == 1
    assert await surveys(bot) == {ALICE["id"]: ("sold_car", "Bought an e-bike instead <3")}


async def test_only_who_started_the_bot_is_asked_and_only_their_own_answer_counts(
    bot: BotHarness,
) -> None:
    await bot.feed(leaves(FRANK))
    await bot.feed(leaves(FRANK))  # the same leave, signalled twice
    await delivered(bot)
    assert bot.session.messages_to(FRANK["id"]) == []
    assert await surveys(bot) == {}

    # Eve was never asked: her forged answer, and Alice's answer about another group, count nothing
    await bot.feed(presses(EVE, f"ex1a:{GROUP_ID}:noise"))
    await bot.feed(presses(ALICE, "ex1a:-1001000000002:noise"))
    assert [answer.params["text"] for answer in callback_answers(bot)] == [STALE, STALE]
    await bot.feed(says_privately(EVE, "my comment"))
    assert bot.session.texts_to(EVE["id"])[-1].startswith("I did not understand that.")
    assert await surveys(bot) == {}

    # Alice answers; a message days later is about something else, not a comment
    await bot.feed(leaves(ALICE))
    await bot.feed(presses(ALICE, f"ex1a:{GROUP_ID}:relevance"))
    await at(bot, NOW + timedelta(days=2), says_privately(ALICE, "hello again"))
    assert bot.session.texts_to(ALICE["id"])[-1].startswith("I did not understand that.")
    assert await surveys(bot) == {ALICE["id"]: ("relevance", None)}


async def test_why_members_left_shows_in_stats_and_the_digest(bot: BotHarness) -> None:
    for person, reason in ((ALICE, "noise"), (EVE, "noise"), (FRANK, None)):
        await bot.feed(leaves(person))
        if reason is not None:
            await bot.feed(presses(person, f"ex1a:{GROUP_ID}:{reason}"))
            await bot.feed(says_privately(person, "/skip"))
    assert bot.session.texts_to(EVE["id"])[-1] == "Thank you, and all the best!"
    # one more asked who does not answer: she left by the service message
    late = updates.user(107, "Gina")
    await starts_the_bot(bot, late)
    await bot.feed(joins(late))
    await bot.feed(said(late, None, left_chat_member=late))
    bot.session.clear()

    await bot.feed(said(ADMIN, "/stats"))
    [stats] = bot.session.texts_to(GROUP_ID)
    assert stats.splitlines()[-2:] == [
        "<b>Why members left</b> (answered by 2 of 3 asked)",
        "• Too many messages: 2",
    ]
    # a week later, the digest (the 7 days before its day) tells the same
    await at(bot, NOW + timedelta(days=1), says_privately(OPERATOR, "/digest"))
    [preview] = bot.session.texts_to(OPERATOR["id"])
    assert "<b>Why members left</b> (answered by 2 of 3 asked)\n• Too many messages: 2" in preview
    bot.session.clear()
    await at(bot, NOW + timedelta(days=40), said(ADMIN, "/stats 30d"))
    assert "Why members left" not in bot.session.texts_to(GROUP_ID)[-1]


async def test_forget_me_erases_the_answers_and_the_member_is_never_asked_again(
    bot: BotHarness,
) -> None:
    await bot.feed(leaves(ALICE))
    await bot.feed(presses(ALICE, f"ex1a:{GROUP_ID}:other"))
    await bot.feed(says_privately(ALICE, "The admins were rude"))
    await bot.feed(joins(ALICE, NOW + timedelta(hours=1)))
    await delivered(bot)
    assert len(questions_to(bot, ALICE)) == 1
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/forget_me"))
    [question] = bot.session.messages_to(ALICE["id"])
    [erase] = [b["callback_data"] for b in buttons(question) if b["text"] == "Erase my data"]
    await bot.feed(presses(ALICE, erase))

    assert await surveys(bot) == {ALICE["id"]: (None, None)}
    await at(bot, NOW + timedelta(hours=2), leaves(ALICE, NOW + timedelta(hours=2)))
    await delivered(bot)
    assert questions_to(bot, ALICE) == []
