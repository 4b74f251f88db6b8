"""Replay: Telegram delivers an update again (same update id) after a timeout, a crash or
a restart. Whatever arrives a second time, in whatever order, changes nothing a member or
an operator can see: the state after the corpus twice is the state after it once."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import pytest

from hearth.domain.events import RsvpStatus
from hearth.simulate import updates
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    CAROL,
    DAVE,
    GROUP,
    GROUP_ID,
    NOW,
    OPERATOR,
    THIRD_GROUP,
    THIRD_GROUP_ID,
    activity,
    admins,
    bot_serves_group,
    bot_user,
    joins,
    leaves,
    said,
    says_privately,
)
from tests.reliability.conftest import Databases
from tests.reliability.world import (
    COMEBACK_BONUS,
    REWARD_STOCK,
    Furnishings,
    differences,
    furnish,
    redeem_button,
    snapshot,
)

EVE = updates.user(105, "Eve", username="eve")
ANONYMOUS_ADMIN = updates.user(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
HELPER_BOT = updates.user(555, "Helper", username="helper_bot", is_bot=True)
FORUM = updates.group(GROUP_ID, "Pudong Owners", forum=True)
FIRST_UPDATE_ID = 70_000


def corpus(furnished: Furnishings) -> list[updates.JsonDict]:
    """A morning in the group, as Telegram sends it: every kind of update Hearth handles and
    the odd ones it must take in its stride. Update ids are fixed, as Telegram's are."""
    event, reward, nudge = furnished.event_id, furnished.reward_id, furnished.nudge_id
    wrong_option = 1 - furnished.right_option
    morning = said(ALICE, "Morning everyone! Who is coming to the drive?", message_id=201)
    card = {
        "message_id": 150,
        "date": updates.timestamp(NOW),
        "chat": GROUP,
        "from": bot_user(),
        "text": "Spring drive",
    }

    def in_group(person: updates.JsonDict, data: str) -> updates.JsonDict:
        return updates.callback_query(person, data, NOW, chat=GROUP, message=card)

    def in_private(person: updates.JsonDict, data: str) -> updates.JsonDict:
        return updates.callback_query(person, data, NOW)

    raw: list[updates.JsonDict] = [
        # the group talks
        morning,
        said(BORIS, "Me! Count me in 🚗", message_id=202, reply_to=morning["message"]),
        updates.reaction(GROUP, CAROL, NOW, message_id=201),
        updates.message(
            FORUM,
            CAROL,
            "Tyre pressure for the drive?",
            NOW,
            message_id=203,
            message_thread_id=7,
            is_topic_message=True,
        ),
        said(ALICE, None, message_id=204, sticker=STICKER),
        said(BORIS, None, message_id=205, poll=members_poll()),
        said(ANONYMOUS_ADMIN, "Meeting at 8", message_id=206, sender_chat=GROUP),
        said(ANONYMOUS_ADMIN, "/stats", message_id=207, sender_chat=GROUP),
        said(HELPER_BOT, "beep", message_id=208),
        updates.edited_message(GROUP, ALICE, "Morning all! Who is coming?", NOW),
        updates.channel_post(-1002000000009, "Our new model is out", NOW),
        # commands
        said(ALICE, "/checkin", message_id=209),
        says_privately(BORIS, "/checkin"),
        said(ALICE, "/checkin", message_id=210),  # again the same day
        says_privately(CAROL, "/start"),
        says_privately(ALICE, "/me"),
        says_privately(ALICE, "/points"),
        said(BORIS, "/top", message_id=211),
        says_privately(CAROL, "/events"),
        says_privately(OPERATOR, "/stats"),
        # the quiz
        updates.poll_answer(ALICE, furnished.poll_id, [furnished.right_option]),
        updates.poll_answer(BORIS, furnished.poll_id, [wrong_option]),
        updates.poll_answer(CAROL, furnished.poll_id, [furnished.right_option]),
        updates.poll_answer(CAROL, furnished.poll_id, []),  # Carol takes her vote back
        # the event's card: two places, three takers, then one gives up
        in_group(ALICE, f"ev1r:{event}:g"),
        in_group(BORIS, f"ev1r:{event}:g"),
        in_group(CAROL, f"ev1r:{event}:g"),
        in_group(BORIS, f"ev1r:{event}:n"),
        # the rewards store: two in stock, three redeem; Alice presses hers twice
        in_private(ALICE, f"rw1p:{reward}"),
        *[in_private(person, redeem_button(person, reward)) for person in (ALICE, BORIS, CAROL)],
        # the comeback nudge: claimed, claimed again, and tapped by someone it was not for
        in_private(ALICE, f"ng1:{nudge}:claim"),
        in_private(ALICE, f"ng1:{nudge}:claim"),
        in_private(BORIS, f"ng1:{nudge}:claim"),
        in_private(BORIS, "lang1:en"),
        # people come and go
        joins(DAVE),
        joins(EVE),
        leaves(DAVE),
        updates.message(GROUP, EVE, None, NOW, message_id=212, new_chat_members=[EVE]),
        # another group adds the bot and throws it out again
        updates.chat_member_update(
            THIRD_GROUP, bot_user(), "left", "member", NOW, actor=ADMIN, kind="my_chat_member"
        ),
        updates.chat_member_update(
            THIRD_GROUP, bot_user(), "member", "kicked", NOW, actor=ADMIN, kind="my_chat_member"
        ),
    ]
    confirm = next(u for u in raw if u.get("callback_query", {}).get("data", "").startswith("rw1c"))
    raw.insert(raw.index(confirm) + 1, in_private(ALICE, confirm["callback_query"]["data"]))
    numbered = []
    for offset, update in enumerate(raw):
        update = {**update, "update_id": FIRST_UPDATE_ID + offset}
        if "callback_query" in update:
            update["callback_query"] = {**update["callback_query"], "id": str(offset)}
        numbered.append(update)
    return numbered


STICKER = {
    "file_id": "sticker-1",
    "file_unique_id": "sticker-1",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
    "emoji": "👍",
}


def members_poll() -> dict[str, Any]:
    """A poll a member (not the bot) posted in the group."""
    return {
        "id": "members-poll-1",
        "question": "Saturday or Sunday?",
        "options": [
            {"text": day, "voter_count": 0, "persistent_id": str(index)}
            for index, day in enumerate(("Saturday", "Sunday"))
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": False,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": True,
        "members_only": False,
        "persistent_id": "members-poll-1",
    }


async def feed_all(bot: BotHarness, raw: list[updates.JsonDict]) -> None:
    for update in raw:
        await bot.feed(update)


def redelivered_later(raw: list[updates.JsonDict], seed: int) -> list[updates.JsonDict]:
    """Every update, and a second copy of each at a random moment after the first."""
    rng = random.Random(seed)
    sequence = list(raw)
    for update in raw:
        first = sequence.index(update)
        sequence.insert(rng.randint(first + 1, len(sequence)), update)
    return sequence


def shuffled(raw: list[updates.JsonDict], seed: int) -> list[updates.JsonDict]:
    copy = list(raw)
    random.Random(seed).shuffle(copy)
    return copy


async def furnished_hearth(databases: Databases, name: str) -> tuple[BotHarness, Furnishings]:
    bot = await databases.start(name)
    return bot, await furnish(bot)


@pytest.fixture
def unexpected_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Errors logged while the test ran (the error handler logs every unexpected one)."""
    caplog.set_level(logging.ERROR)
    return caplog.records


async def once(databases: Databases) -> tuple[dict[str, list[Any]], list[updates.JsonDict]]:
    """The state after the corpus, delivered once, and the corpus (its Confirm buttons carry
    fresh nonces: replay this very corpus, not a new one)."""
    bot, furnished = await furnished_hearth(databases, "once")
    raw = corpus(furnished)
    await feed_all(bot, raw)
    return await snapshot(bot), raw


async def furnished_alike(
    databases: Databases, name: str, raw: list[updates.JsonDict]
) -> BotHarness:
    """Another Hearth furnished as the first, so that the corpus means the same to it."""
    bot, furnished = await furnished_hearth(databases, name)
    assert corpus(furnished)[0] == raw[0]
    assert furnished.poll_id in repr(raw)
    return bot


# -- the corpus itself does what a morning in the group does


async def test_the_corpus_delivered_once_leaves_the_state_a_member_expects(
    databases: Databases, unexpected_errors: list[logging.LogRecord]
) -> None:
    state, raw = await once(databases)

    def where(table: str, **match: Any) -> list[dict[str, Any]]:
        return [
            row
            for row in map(dict, state[table])
            if all(row.get(key) == value for key, value in match.items())
        ]

    assert {row["member_id"] for row in where("checkin")} == {ALICE["id"], BORIS["id"]}
    assert sorted(row["member_id"] for row in where("redemption")) == [ALICE["id"], BORIS["id"]]
    assert len(where("redemption")) == REWARD_STOCK
    assert {row["member_id"]: row["status"] for row in where("rsvp")} == {
        ALICE["id"]: RsvpStatus.GOING,
        BORIS["id"]: RsvpStatus.NOT_GOING,
        CAROL["id"]: RsvpStatus.GOING,  # moved up from the waitlist
    }
    assert [row["amount"] for row in where("points_entry", reason="comeback")] == [COMEBACK_BONUS]
    assert {row["member_id"] for row in where("quiz_answer")} >= {ALICE["id"], BORIS["id"]}
    assert where("membership", member_id=DAVE["id"])[0]["left_at"] is not None
    assert where("membership", member_id=EVE["id"])[0]["left_at"] is None
    assert where("community", id=THIRD_GROUP_ID)[0]["active"] is False
    assert where("member", id=ANONYMOUS_ADMIN["id"]) == []
    assert where("member", id=HELPER_BOT["id"]) == []
    assert where("member", id=BORIS["id"])[0]["locale"] == "en"
    assert {row["update_id"] for row in where("processed_update")} >= {
        update["update_id"] for update in raw
    }
    assert unexpected_errors == []


# -- a second delivery changes nothing


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_corpus_again_in_any_order_changes_nothing(
    databases: Databases, unexpected_errors: list[logging.LogRecord], seed: int
) -> None:
    expected, raw = await once(databases)
    bot = await furnished_alike(databases, "twice", raw)

    await feed_all(bot, raw + shuffled(raw, seed))

    assert differences(expected, await snapshot(bot)) == []
    assert unexpected_errors == []


@pytest.mark.parametrize("seed", [3, 4])
async def test_each_update_again_at_any_later_moment_changes_nothing(
    databases: Databases, unexpected_errors: list[logging.LogRecord], seed: int
) -> None:
    expected, raw = await once(databases)
    bot = await furnished_alike(databases, "interleaved", raw)

    await feed_all(bot, redelivered_later(raw, seed))

    assert differences(expected, await snapshot(bot)) == []
    assert unexpected_errors == []


async def test_the_corpus_again_after_a_restart_changes_nothing(
    databases: Databases, unexpected_errors: list[logging.LogRecord]
) -> None:
    expected, raw = await once(databases)
    bot = await furnished_alike(databases, "restarted", raw)
    await feed_all(bot, raw)
    await databases.stop(bot)

    # A new process on the same database: what it skips, it learns from the database.
    restarted = await databases.start("restarted")
    restarted.session.admins[GROUP_ID] = admins(ADMIN)
    await feed_all(restarted, shuffled(raw, 5))

    assert restarted.session.of("sendMessage") == []
    assert restarted.session.of("answerCallbackQuery") == []
    assert differences(expected, await snapshot(restarted)) == []
    assert unexpected_errors == []


# -- what a clean shutdown writes, a restart knows


async def test_a_batch_being_written_when_the_bot_stops_is_written_all_the_same(
    databases: Databases,
) -> None:
    bot = await databases.start("stopping")
    await bot_serves_group(bot)
    buffer = bot.hearth.buffer
    writing, stopping, may_finish = asyncio.Event(), asyncio.Event(), asyncio.Event()
    credit_messages, stop_writing = buffer.on_batch, buffer.stop
    assert credit_messages is not None

    async def slow_credit(uow: Any, records: Any, now: Any) -> None:
        writing.set()
        await may_finish.wait()
        await credit_messages(uow, records, now)

    async def stop() -> None:
        stopping.set()
        await stop_writing()  # stops the background writer at once

    buffer.on_batch = slow_credit
    buffer.stop = stop  # type: ignore[method-assign]
    hello = {**said(ALICE, "Hello everyone, what a morning!", message_id=300), "update_id": 80_000}
    await bot.feed(hello)
    await writing.wait()  # the background writer is in the middle of the batch

    shutdown = asyncio.create_task(databases.stop(bot))
    await stopping.wait()
    may_finish.set()
    await shutdown

    restarted = await databases.start("stopping")
    assert [(row.member_id, row.update_id) for row in await activity(restarted)] == [
        (ALICE["id"], 80_000)
    ]
    await restarted.feed(hello)  # Telegram had not heard back before the restart
    assert len(await activity(restarted)) == 1
