"""Odd, repeated and hostile input: no crash, no duplicate rows, a clear answer where one is due."""

from __future__ import annotations

import pytest

from hearth.simulate import updates
from hearth.storage import tables
from tests.conftest import BotHarness
from tests.handlers.common import (
    ALICE,
    BORIS,
    GROUP,
    GROUP_ID,
    NOW,
    OPERATOR,
    activity,
    bot_serves_group,
    callback_answers,
    member,
    presses,
    rows,
    said,
    says_privately,
    stored_strings,
)

ANONYMOUS_ADMIN = updates.user(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
CHANNEL = {"id": -1002000000009, "type": "channel", "title": "Pudong Owners News"}
TELEGRAM_SERVICE = updates.user(777000, "Telegram", is_bot=False)
CHANNEL_BOT = updates.user(136817688, "Channel", username="Channel_Bot", is_bot=True)
HELPER_BOT = updates.user(555, "Helper", username="helper_bot", is_bot=True)
FORUM = updates.group(GROUP_ID, "Pudong Owners", forum=True)

STALE = "This button is no longer valid. Please send the command again."
DID_NOT_UNDERSTAND = "I did not understand that. Send /help to see what I can do."
NOT_A_COMMUNITY_LINK = "This link does not belong to a community I serve."


@pytest.fixture
async def group_bot(bot: BotHarness) -> BotHarness:
    """A bot that serves GROUP as an administrator; nothing recorded yet."""
    await bot_serves_group(bot)
    return bot


# -- deliveries that must count once, or not at all


async def test_second_delivery_of_the_same_group_message_records_one_activity_row(
    group_bot: BotHarness,
) -> None:
    await group_bot.feed(updates.message(GROUP, ALICE, "hello", NOW, update_id=500))
    await group_bot.feed(updates.message(GROUP, ALICE, "hello", NOW, update_id=500))

    [row] = await activity(group_bot)
    assert (row.member_id, row.kind, row.update_id) == (ALICE["id"], "message", 500)
    assert len(await rows(group_bot, tables.Member)) == 2  # the group's admin, and Alice


async def test_second_delivery_of_the_same_command_answers_once(bot: BotHarness) -> None:
    start = updates.message(updates.private(ALICE), ALICE, "/start", NOW, update_id=77)

    await bot.feed(start)
    await bot.feed(start)

    assert len(bot.session.texts_to(ALICE["id"])) == 1
    assert [row.update_id for row in await rows(bot, tables.ProcessedUpdate)] == [77]


async def test_edited_message_is_not_activity(group_bot: BotHarness) -> None:
    await group_bot.feed(updates.edited_message(GROUP, ALICE, "hello (edited)", NOW))

    assert await activity(group_bot) == []
    assert group_bot.session.messages_to(GROUP_ID) == []


async def test_channel_post_changes_nothing_and_gets_no_answer(bot: BotHarness) -> None:
    await bot.feed(updates.channel_post(CHANNEL["id"], "our new product", NOW))

    assert await activity(bot) == []
    assert await rows(bot, tables.Community) == []
    assert await rows(bot, tables.Member) == []
    assert bot.session.of("sendMessage") == []


async def test_message_from_another_bot_is_not_activity_and_the_bot_is_not_a_member(
    group_bot: BotHarness,
) -> None:
    await group_bot.feed(said(HELPER_BOT, "beep"))

    assert await activity(group_bot) == []
    assert await member(group_bot, HELPER_BOT["id"]) is None
    assert group_bot.session.messages_to(GROUP_ID) == []


async def test_anonymous_admin_message_is_not_activity_and_the_placeholder_is_not_a_member(
    group_bot: BotHarness,
) -> None:
    await group_bot.feed(said(ANONYMOUS_ADMIN, "announcement", sender_chat=GROUP))

    assert await activity(group_bot) == []
    assert await member(group_bot, ANONYMOUS_ADMIN["id"]) is None


@pytest.mark.parametrize(
    ("sender", "extra"),
    [
        pytest.param(TELEGRAM_SERVICE, {"is_automatic_forward": True}, id="automatic-forward"),
        pytest.param(CHANNEL_BOT, {}, id="sent-as-channel"),
    ],
)
async def test_linked_channel_message_is_not_activity_and_the_placeholder_is_not_a_member(
    group_bot: BotHarness, sender: updates.JsonDict, extra: dict[str, object]
) -> None:
    await group_bot.feed(said(sender, "news from the channel", sender_chat=CHANNEL, **extra))

    assert await activity(group_bot) == []
    assert await member(group_bot, sender["id"]) is None
    assert await member(group_bot, CHANNEL["id"]) is None


@pytest.mark.parametrize(
    "service",
    [
        pytest.param(
            {"pinned_message": {"message_id": 3, "date": 1, "chat": GROUP, "text": "rules"}},
            id="pinned_message",
        ),
        pytest.param({"new_chat_title": "Pudong Owners 2"}, id="new_chat_title"),
        pytest.param({"group_chat_created": True}, id="group_chat_created"),
    ],
)
async def test_service_message_is_not_message_activity(
    group_bot: BotHarness, service: dict[str, object]
) -> None:
    await group_bot.feed(said(ALICE, None, **service))

    assert await activity(group_bot) == []
    assert group_bot.session.messages_to(GROUP_ID) == []


async def test_photo_without_text_counts_as_one_message(group_bot: BotHarness) -> None:
    photo = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}]

    await group_bot.feed(said(ALICE, None, photo=photo))

    [row] = await activity(group_bot)
    assert (row.member_id, row.kind) == (ALICE["id"], "message")


async def test_message_in_a_forum_topic_counts(group_bot: BotHarness) -> None:
    await group_bot.feed(
        updates.message(
            FORUM, ALICE, "in the topic", NOW, is_topic_message=True, message_thread_id=5
        )
    )

    [row] = await activity(group_bot)
    assert (row.member_id, row.kind) == (ALICE["id"], "message")


async def test_reply_to_the_topic_creation_message_is_not_a_reply(group_bot: BotHarness) -> None:
    # Telegram makes every message in a topic a reply to the message that created the topic.
    topic_created = {
        "message_id": 5,
        "date": updates.timestamp(NOW),
        "chat": FORUM,
        "from": BORIS,
        "message_thread_id": 5,
        "forum_topic_created": {"name": "Parking", "icon_color": 7322096},
    }

    await group_bot.feed(
        updates.message(
            FORUM,
            ALICE,
            "in the topic",
            NOW,
            message_id=6,
            is_topic_message=True,
            message_thread_id=5,
            reply_to=topic_created,
        )
    )

    [row] = await activity(group_bot)
    assert (row.member_id, row.kind, row.peer_member_id) == (ALICE["id"], "message", None)


# -- /start links that lead nowhere


@pytest.mark.parametrize(
    "payload", ["c-100999", "garbage!!", "c9999999999999999999"], ids=["unknown", "junk", "huge"]
)
async def test_start_with_a_link_that_is_no_community_welcomes_and_says_so(
    group_bot: BotHarness, payload: str
) -> None:
    await group_bot.feed(says_privately(ALICE, f"/start {payload}"))

    texts = group_bot.session.texts_to(ALICE["id"])
    assert texts[0].startswith("Welcome, Alice!")
    assert len(texts) == 2
    assert NOT_A_COMMUNITY_LINK in texts[1]
    assert await activity(group_bot, "start") == []
    alice = await member(group_bot, ALICE["id"])
    assert alice is not None
    assert alice.started_bot


# -- texts Hearth must count but never keep

ODD_TEXTS = {
    "long": "secret-plan " + "x" * 9_988,
    "unicode": "secret\u0000plan \u200f\u202eמה נשמע\u202c 🔥👩‍👩‍👧 秘密计划 \ufeff",
}


@pytest.mark.parametrize("text", ODD_TEXTS.values(), ids=ODD_TEXTS.keys())
async def test_long_or_odd_text_counts_once_and_is_never_stored(
    group_bot: BotHarness, text: str
) -> None:
    await group_bot.feed(said(ALICE, text))

    [row] = await activity(group_bot)
    assert (row.member_id, row.kind) == (ALICE["id"], "message")
    stored = await stored_strings(group_bot)
    assert stored  # the scan did read the tables
    for fragment in ("secret", "x" * 50, "秘密", "מה"):
        assert not [value for value in stored if fragment in value]


# -- buttons nobody recognises


@pytest.mark.parametrize(
    "data",
    ["lang1:xx", "garbage", "stats1:notanumber:7", "x" * 64],
    ids=["unknown-language", "garbage", "not-a-number", "64-bytes"],
)
async def test_malformed_button_is_answered_as_no_longer_valid_and_changes_nothing(
    group_bot: BotHarness, data: str
) -> None:
    await group_bot.feed(presses(ALICE, data))

    [answer] = callback_answers(group_bot)
    assert answer.text == STALE
    assert answer.params.get("show_alert") is True
    assert group_bot.session.of("sendMessage") == []
    assert group_bot.session.of("editMessageText") == []
    alice = await member(group_bot, ALICE["id"])
    assert alice is None or alice.locale is None
    assert await rows(group_bot, tables.AuditLog) == []


@pytest.mark.parametrize(
    "data",
    [f"stats1:{GROUP_ID}:3", "stats1:99999999999999999999:7"],
    ids=["period-no-longer-offered", "id-beyond-64-bits"],
)
async def test_operator_pressing_a_malformed_stats_button_is_told_it_is_no_longer_valid(
    group_bot: BotHarness, data: str
) -> None:
    # Callback data comes back from the client and anyone can craft it (64 bytes at most):
    # an operator pressing an odd one must hear that it is stale, neither that they are no
    # operator nor that Hearth broke.
    await group_bot.feed(presses(OPERATOR, data))

    [answer] = callback_answers(group_bot)
    assert answer.text == STALE
    assert group_bot.session.of("sendMessage") == []


# -- messages not meant for Hearth, or not understood


async def test_command_addressed_to_another_bot_gets_no_answer(group_bot: BotHarness) -> None:
    await group_bot.feed(said(ALICE, "/help@otherbot"))

    assert group_bot.session.of("sendMessage") == []
    assert await activity(group_bot) == []


async def test_private_text_that_is_not_a_command_is_answered_with_a_hint(
    bot: BotHarness,
) -> None:
    await bot.feed(says_privately(ALICE, "hello, what can you do?"))

    assert bot.session.texts_to(ALICE["id"]) == [DID_NOT_UNDERSTAND]
