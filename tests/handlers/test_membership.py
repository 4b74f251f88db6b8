"""The bot joining and leaving groups; members joining, leaving, coming back and being promoted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hearth.simulate import updates
from hearth.storage import tables
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    GROUP,
    GROUP_ID,
    NOW,
    activity,
    bot_added,
    bot_serves_group,
    bot_user,
    buttons,
    community,
    joins,
    leaves,
    member,
    membership,
    rows,
    said,
    says_privately,
)
from tests.telegram import Failure

GREETING = "Hello! I am Hearth."
PRIVACY_WARNING = "I am not an administrator here"
DEEP_LINK = f"https://t.me/hearth_test_bot?start=c{GROUP_ID}"
ONBOARDING = "Welcome to <b>Pudong Owners</b>!"


def joined_as_service_message(person: updates.JsonDict) -> updates.JsonDict:
    """Telegram's "X joined the group" service message."""
    return said(person, None, new_chat_members=[person])


def welcomes(bot: BotHarness) -> list[str]:
    return [text for text in bot.session.texts_to(GROUP_ID) if text.startswith("Welcome, ")]


# -- the bot itself


async def test_bot_added_as_administrator_activates_the_community_and_greets_the_group(
    bot: BotHarness,
) -> None:
    await bot.feed(bot_added("administrator"))

    pudong = await community(bot)
    assert pudong is not None
    assert (pudong.title, pudong.active, pudong.bot_is_admin) == ("Pudong Owners", True, True)
    [greeting] = bot.session.texts_to(GROUP_ID)
    assert greeting.startswith(GREETING)
    assert PRIVACY_WARNING not in greeting


async def test_bot_added_as_plain_member_warns_that_it_sees_only_commands(
    bot: BotHarness,
) -> None:
    await bot.feed(bot_added("member"))

    pudong = await community(bot)
    assert pudong is not None
    assert pudong.active
    assert not pudong.bot_is_admin
    [greeting] = bot.session.texts_to(GROUP_ID)
    assert greeting.startswith(GREETING)
    assert PRIVACY_WARNING in greeting


@pytest.mark.parametrize("status", ["left", "kicked"])
async def test_bot_removed_deactivates_the_community_and_keeps_its_data(
    bot: BotHarness, status: str
) -> None:
    await bot_serves_group(bot)
    await bot.feed(said(ALICE, "hello"))
    await bot.flush()

    await bot.feed(
        updates.chat_member_update(
            GROUP, bot_user(), "administrator", status, NOW, actor=ADMIN, kind="my_chat_member"
        )
    )

    pudong = await community(bot)
    assert pudong is not None
    assert not pudong.active
    assert not pudong.bot_is_admin
    assert await membership(bot, ALICE["id"]) is not None
    assert len(await activity(bot, "message")) == 1
    assert bot.session.of("sendMessage") == []


# -- members joining


async def test_member_joining_is_recorded_and_welcomed_once_with_a_deep_link(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)

    await bot.feed(joins(ALICE))

    alice = await membership(bot, ALICE["id"])
    assert alice is not None
    assert (alice.joined_at, alice.left_at, alice.join_count) == (NOW, None, 1)
    [welcome] = bot.session.messages_to(GROUP_ID)
    assert welcome.text.startswith("Welcome, Alice!")
    assert [button["url"] for button in buttons(welcome)] == [DEEP_LINK]
    assert len(await activity(bot, "join")) == 1


async def test_join_seen_as_chat_member_and_then_as_service_message_is_welcomed_once(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)

    await bot.feed(joins(ALICE))
    await bot.feed(joined_as_service_message(ALICE))

    assert len(welcomes(bot)) == 1
    assert len(await activity(bot, "join")) == 1


async def test_join_seen_as_service_message_and_then_as_chat_member_is_welcomed_once(
    bot: BotHarness,
) -> None:
    # Telegram does not promise an order: the service message may well come first.
    await bot_serves_group(bot)

    await bot.feed(joined_as_service_message(ALICE))
    await bot.feed(joins(ALICE))

    assert len(welcomes(bot)) == 1
    assert len(await activity(bot, "join")) == 1
    alice = await membership(bot, ALICE["id"])
    assert alice is not None
    assert alice.join_count == 1


async def test_join_seen_only_as_service_message_is_welcomed_and_counted(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)

    await bot.feed(joined_as_service_message(ALICE))

    [welcome] = bot.session.messages_to(GROUP_ID)
    assert welcome.text.startswith("Welcome, Alice!")
    assert [button["url"] for button in buttons(welcome)] == [DEEP_LINK]
    [join] = await activity(bot, "join")
    assert join.member_id == ALICE["id"]
    [stored] = [row for row in await rows(bot, tables.Membership) if row.member_id == ALICE["id"]]
    assert stored.joined_via == "join"


async def test_member_leaving_and_coming_back_is_welcomed_again(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    back = NOW + timedelta(days=1)

    await bot.feed(joins(ALICE))
    await bot.feed(leaves(ALICE, NOW + timedelta(hours=1)))
    left = await membership(bot, ALICE["id"])
    await bot.feed(joins(ALICE, back))

    assert left is not None
    assert left.left_at == NOW + timedelta(hours=1)
    alice = await membership(bot, ALICE["id"])
    assert alice is not None
    assert (alice.join_count, alice.left_at, alice.joined_at) == (2, None, back)
    assert len(welcomes(bot)) == 2
    assert [row.kind for row in await activity(bot)] == ["join", "leave", "join"]


async def test_welcome_off_by_an_admin_stops_the_welcome_and_is_audited(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(said(ADMIN, "/welcome off"))
    await bot.feed(joins(ALICE))

    assert bot.session.texts_to(GROUP_ID) == ["Newcomers will no longer be welcomed in the group."]
    pudong = await community(bot)
    assert pudong is not None
    assert not pudong.welcome_enabled
    [entry] = await rows(bot, tables.AuditLog)
    assert (entry.actor_id, entry.action, entry.community_id) == (
        ADMIN["id"],
        "welcome.disabled",
        GROUP_ID,
    )
    assert len(await activity(bot, "join")) == 1  # the join itself still counts


async def test_welcome_off_by_a_member_is_refused_and_changes_nothing(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(said(ALICE, "/welcome off"))
    await bot.feed(joins(BORIS))

    refusal, welcome = bot.session.texts_to(GROUP_ID)
    assert refusal == "This command is for the community's operators."
    assert welcome.startswith("Welcome, Boris!")
    pudong = await community(bot)
    assert pudong is not None
    assert pudong.welcome_enabled
    assert await rows(bot, tables.AuditLog) == []


async def test_joining_member_who_started_the_bot_gets_a_private_onboarding(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot.feed(says_privately(ALICE, "/start"))
    bot.session.clear()

    await bot.feed(joins(ALICE))

    # The onboarding, then the questionnaire's offer (no checklist: missions are off).
    [onboarding, offer] = bot.session.texts_to(ALICE["id"])
    assert onboarding.startswith(ONBOARDING)
    assert offer.startswith("<b>Tell us a little about yourself?</b>")


async def test_joining_member_who_never_started_the_bot_gets_nothing_in_private(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)

    await bot.feed(joins(ALICE))

    assert bot.session.texts_to(ALICE["id"]) == []
    assert len(welcomes(bot)) == 1


async def test_joining_member_who_blocked_the_bot_is_marked_unreachable(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    await bot.feed(says_privately(ALICE, "/start"))
    bot.session.fail(
        "sendMessage", ALICE["id"], Failure(403, "Forbidden: bot was blocked by the user")
    )

    await bot.feed(joins(ALICE))

    alice = await member(bot, ALICE["id"])
    assert alice is not None
    assert not alice.reachable
    assert len(welcomes(bot)) == 1
    assert await membership(bot, ALICE["id"]) is not None  # the join is kept all the same


async def test_bot_joining_the_group_is_ignored(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    other_bot = updates.user(555, "Helper", username="helper_bot", is_bot=True)

    await bot.feed(joins(other_bot))

    assert bot.session.of("sendMessage") == []
    assert await member(bot, other_bot["id"]) is None
    assert await activity(bot) == []


async def test_member_promoted_to_administrator_gets_the_administrator_role(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot.feed(joins(ALICE))

    await bot.feed(updates.chat_member_update(GROUP, ALICE, "member", "administrator", NOW))

    alice = await membership(bot, ALICE["id"])
    assert alice is not None
    assert alice.role == "administrator"
    assert alice.join_count == 1
    assert len(welcomes(bot)) == 1
