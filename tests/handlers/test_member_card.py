"""/member through the real dispatcher: an operator reads one member's card in private — who
they are, their stage and RFM standing, tags, points, activity, events, quizzes and the
reminders they received — and nobody else learns anything, not even that the member exists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from hearth.domain.delivery import OutgoingMessage
from hearth.domain.events import EventDraft, RsvpStatus
from hearth.domain.lifecycle import LifecycleRules
from hearth.domain.members import CommunityProfile
from hearth.services import events
from hearth.services.engagement_recompute import recompute
from hearth.simulate import updates
from hearth.storage.engagement import MembershipStageRow
from hearth.storage.quizzes import QuizAnswerRow
from tests.conftest import BotHarness, make_harness
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
    OTHER_GROUP,
    OTHER_GROUP_ID,
    admins,
    at,
    balance,
    bot_serves_group,
    buttons,
    callback_answers,
    joins,
    leaves,
    members_of,
    presses,
    rows,
    said,
    says_privately,
    starts_the_bot,
)

NOT_AN_OPERATOR = "This command is for the community's operators."
UNKNOWN_MEMBER = "I do not know that member in this community."
SENT_IN_PRIVATE = "I sent it to you in private."
USAGE = "Usage: /member @username|id, or reply to the member's message in the group with /member"

EVE = updates.user(105, "Eve", username="eve")  # a member, not an operator
FIRST_JOIN = NOW - timedelta(days=25)  # 2026-02-05
LEFT = NOW - timedelta(days=23)
REJOINED = NOW - timedelta(days=20)  # 2026-02-10
FIRST_CHECKIN = NOW - timedelta(days=19)  # 2026-02-11
FIRST_RECOMPUTE = date(2026, 2, 20)
DRIVE_STARTS = datetime(2026, 2, 25, 14, 0, tzinfo=NOW.tzinfo)


@pytest.fixture
async def bot(sqlite_url: str, clock: Any) -> AsyncIterator[BotHarness]:
    """Adam owns the group; Dave owns another group. Alice has a month of history in the
    group (see ``alice_takes_part``); Boris and Eve said hello there, Carol in Dave's group."""
    harness = await make_harness(sqlite_url, clock, operator_ids="7", welcome_batch_seconds=0)
    harness.session.admins[OTHER_GROUP_ID] = admins(DAVE)
    await bot_serves_group(harness)
    await bot_serves_group(harness, chat=OTHER_GROUP)
    await starts_the_bot(harness, ADMIN, DAVE, OPERATOR)
    await alice_takes_part(harness)
    await members_of(harness, BORIS, EVE)
    await members_of(harness, CAROL, chat=OTHER_GROUP)
    await recomputed(harness, NOW.date())
    harness.session.clear()
    yield harness
    await harness.hearth.on_shutdown()


async def community_of(bot: BotHarness, community_id: int = GROUP_ID) -> CommunityProfile:
    async with bot.uow() as uow:
        community = await uow.communities.get(community_id)
    assert community is not None
    return community


async def recomputed(bot: BotHarness, today: date, community_id: int = GROUP_ID) -> None:
    """The nightly recompute of the community's stages, RFM scores and tags, for ``today``."""
    await bot.flush()
    community = await community_of(bot, community_id)
    async with bot.uow() as uow:
        await recompute(uow, community, today, LifecycleRules())
        await uow.commit()


async def alice_takes_part(bot: BotHarness) -> None:
    """Alice joins, leaves and comes back; checks in twice, goes to an event and rates it,
    answers a quiz question right, tells her birthday, is tagged "vip" by Adam and received
    one check-in reminder. Stages were recomputed on 2026-02-20 (and later for today)."""
    await at(bot, FIRST_JOIN, joins(ALICE, FIRST_JOIN), said(ALICE, "hello all", FIRST_JOIN))
    await at(bot, LEFT, leaves(ALICE, LEFT))
    await at(bot, REJOINED, joins(ALICE, REJOINED), says_privately(ALICE, "/start", REJOINED))
    await at(bot, FIRST_CHECKIN, says_privately(ALICE, "/checkin", FIRST_CHECKIN))
    await recomputed(bot, FIRST_RECOMPUTE)
    community = await community_of(bot)
    async with bot.uow() as uow:
        drive = await events.publish(
            uow,
            community=community,
            draft=EventDraft(
                title="Spring drive",
                description="Along the river",
                place="Lakeside car park",
                starts_at=DRIVE_STARTS,
                ends_at=DRIVE_STARTS + timedelta(hours=3),
                capacity=None,
                registration_deadline=DRIVE_STARTS,
                points=20,
            ),
            actor_id=ADMIN["id"],
            now=DRIVE_STARTS - timedelta(days=3),
        )
        await uow.events.set_rsvp(drive.id, ALICE["id"], RsvpStatus.GOING, DRIVE_STARTS)
        await uow.commit()
    attending = DRIVE_STARTS + timedelta(hours=1)
    await at(bot, attending, says_privately(ALICE, f"/attend {drive.code}", attending))
    async with bot.uow() as uow:
        await uow.events.save_feedback(
            drive.id, ALICE["id"], attending, rating=5, recommend=9, comment="Loved it, Olga!"
        )
        uow.session.add(
            QuizAnswerRow(
                poll_id="poll-1",
                community_id=GROUP_ID,
                member_id=ALICE["id"],
                question_id=1,
                topic="engines",
                option=2,
                correct=True,
                points=10,
                answered_at=attending,
            )
        )
        await uow.tags.add(GROUP_ID, ALICE["id"], ["vip"], actor_id=ADMIN["id"], now=attending)
        reminder = OutgoingMessage(
            dedupe_key=f"checkin-reminder:{GROUP_ID}:{ALICE['id']}:2026-02-27",
            chat_id=ALICE["id"],
            payload={"text": "Time to check in to Pudong Owners, Alice!"},
            kind="checkin_reminder",
            community_id=GROUP_ID,
            member_id=ALICE["id"],
        )
        await uow.outbox.add(reminder, attending)
        [queued] = await uow.outbox.due(attending + timedelta(days=2), 10)
        await uow.outbox.claim(queued.id, attending + timedelta(days=2))
        await uow.outbox.sent(queued.id, attending + timedelta(days=2), 555)
        await uow.commit()
    await at(
        bot,
        NOW,
        says_privately(ALICE, "/birthday 05-17"),
        says_privately(ALICE, "/greetings on"),
        says_privately(ALICE, "/checkin"),
    )


async def card_via_group(bot: BotHarness, operator: updates.JsonDict, text: str) -> str:
    """``operator`` sends ``text`` in the group; the card they received in private."""
    await bot.feed(said(operator, text))
    assert bot.session.texts_to(GROUP_ID) == [SENT_IN_PRIVATE]
    [card] = bot.session.texts_to(operator["id"])
    bot.session.clear()
    return card


async def standing_of(bot: BotHarness, member_id: int) -> MembershipStageRow:
    [row] = [
        row
        for row in await rows(bot, MembershipStageRow)
        if row.member_id == member_id and row.community_id == GROUP_ID
    ]
    return row


# -- the card


async def test_an_admin_gets_the_members_card_in_private_and_the_group_only_hears_where(
    bot: BotHarness,
) -> None:
    card = await card_via_group(bot, ADMIN, "/member @alice")

    standing = await standing_of(bot, ALICE["id"])
    lines = card.splitlines()
    assert lines[0] == f"<b>Alice</b> @alice · id <code>{ALICE['id']}</code>"
    assert lines[1] == "Pudong Owners"
    assert "Joined: 2026-02-10 (came back 1 time)" in lines
    assert "Stage: Growing since 2026-03-02" in lines
    assert "Stage changes: 2026-03-02 New → Growing; 2026-02-20 New" in lines
    [rfm] = [line for line in lines if line.startswith("RFM: ")]
    assert rfm.startswith(
        f"RFM: R{standing.recency_score} F{standing.frequency_score} M{standing.value_score} · "
    )
    assert "Tags: vip" in lines
    assert f"Tier: Member · Balance: {await balance(bot, ALICE)} points · Streak: 1 day" in lines
    assert "Last active: today (2026-03-02)" in lines
    assert "Activation: activated — first check-in on 2026-02-11, 1 day after joining" in lines
    assert "Events: 1 registered, 1 attended; last: Spring drive (2026-02-25)" in lines
    assert "Quiz: 1 answered, 1 right" in lines
    assert "Reminders received (90 days): check-in 1" in lines


async def test_the_segment_shows_since_when_once_the_recompute_stored_it(
    bot: BotHarness,
) -> None:
    async with bot.uow() as uow:
        await uow.session.execute(
            update(MembershipStageRow)
            .where(col(MembershipStageRow.member_id) == ALICE["id"])
            .values(segment="loyal", segment_since=date(2026, 2, 27), high_value=True)
        )
        await uow.commit()

    card = await card_via_group(bot, ADMIN, "/member @alice")

    [rfm] = [line for line in card.splitlines() if line.startswith("RFM: ")]
    assert rfm.endswith(" · Loyal since 2026-02-27 · ⭐ high value")


async def test_replying_to_a_members_message_with_member_shows_their_card(
    bot: BotHarness,
) -> None:
    alices_message = said(ALICE, "look at my new wheels")["message"]

    await bot.feed(updates.message(GROUP, ADMIN, "/member", NOW, reply_to=alices_message))

    assert bot.session.texts_to(GROUP_ID) == [SENT_IN_PRIVATE]
    [card] = bot.session.texts_to(ADMIN["id"])
    assert card.startswith("<b>Alice</b> @alice")


async def test_an_operator_of_one_community_gets_the_card_in_private_directly(
    bot: BotHarness,
) -> None:
    await bot.feed(says_privately(ADMIN, "/member 101"))

    [card] = bot.session.texts_to(ADMIN["id"])
    assert card.startswith("<b>Alice</b> @alice")
    assert "Events: 1 registered, 1 attended; last: Spring drive (2026-02-25)" in card


async def test_an_operator_of_two_communities_picks_the_one_the_card_is_about(
    bot: BotHarness,
) -> None:
    await members_of(bot, ALICE, chat=OTHER_GROUP)
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/member @alice"))

    [picker] = bot.session.messages_to(OPERATOR["id"])
    assert picker.text == "Which community?"
    choices = {button["text"]: button["callback_data"] for button in buttons(picker)}
    assert set(choices) == {"Pudong Owners", "Jinqiao Riders"}
    bot.session.clear()
    await bot.feed(presses(OPERATOR, choices["Jinqiao Riders"]))

    [card] = bot.session.texts_to(OPERATOR["id"])
    assert card.splitlines()[1] == "Jinqiao Riders"
    assert "Not computed yet" in card  # Jinqiao was never recomputed
    assert "Events: 0 registered, 0 attended" in card


async def test_an_operator_of_one_of_the_members_communities_needs_no_picker(
    bot: BotHarness,
) -> None:
    await bot.feed(says_privately(OPERATOR, "/member @carol"))

    [card] = bot.session.texts_to(OPERATOR["id"])
    assert card.splitlines()[:2] == [f"<b>Carol</b> @carol · id <code>{CAROL['id']}</code>",
                                     "Jinqiao Riders"]  # fmt: skip


async def test_an_unknown_member_is_answered_as_unknown(bot: BotHarness) -> None:
    await bot.feed(says_privately(ADMIN, "/member @nobody"))
    await bot.feed(says_privately(ADMIN, "/member 999"))

    assert bot.session.texts_to(ADMIN["id"]) == [UNKNOWN_MEMBER, UNKNOWN_MEMBER]


async def test_a_member_of_another_community_is_not_shown(bot: BotHarness) -> None:
    await bot.feed(says_privately(ADMIN, "/member @carol"))
    assert bot.session.texts_to(ADMIN["id"]) == [UNKNOWN_MEMBER]
    bot.session.clear()

    assert await card_via_group(bot, ADMIN, "/member @carol") == UNKNOWN_MEMBER

    # Dave runs Carol's group: he sees her; Alice is not his.
    await bot.feed(says_privately(DAVE, "/member @alice"))
    assert bot.session.texts_to(DAVE["id"]) == [UNKNOWN_MEMBER]


async def test_a_member_who_left_is_shown_with_the_day_they_left(bot: BotHarness) -> None:
    await at(bot, NOW, leaves(BORIS, NOW))
    bot.session.clear()

    await bot.feed(says_privately(ADMIN, f"/member {BORIS['id']}"))
    [private] = bot.session.texts_to(ADMIN["id"])
    bot.session.clear()
    card = await card_via_group(bot, ADMIN, f"/member {BORIS['id']}")

    for shown in (private, card):
        assert shown.splitlines()[0] == f"<b>Boris</b> · id <code>{BORIS['id']}</code>"
        assert "Left: 2026-03-02" in shown.splitlines()
    # an operator of another community still learns nothing about him
    await bot.feed(says_privately(DAVE, f"/member {BORIS['id']}"))
    assert bot.session.texts_to(DAVE["id"]) == [UNKNOWN_MEMBER]


async def test_without_a_member_or_a_reply_the_operator_gets_the_usage(bot: BotHarness) -> None:
    await bot.feed(says_privately(ADMIN, "/member"))
    await bot.feed(says_privately(ADMIN, "/member alice"))

    assert bot.session.texts_to(ADMIN["id"]) == [USAGE, USAGE]


async def test_an_operator_who_never_opened_the_private_chat_gets_a_link_and_no_card(
    bot: BotHarness,
) -> None:
    owner = updates.user(9, "Zoe", username="zoe")
    bot.session.admins[GROUP_ID] = admins(owner, ADMIN)
    bot.hearth.operators.forget(GROUP_ID)

    await bot.feed(said(owner, "/member @alice"))

    [answer] = bot.session.messages_to(GROUP_ID)
    assert (
        answer.text == "Open a private chat with me first (button below), then send /member again."
    )
    assert answer.button_urls()
    assert bot.session.texts_to(owner["id"]) == []
    assert not any("Alice" in text for text in bot.session.texts_to(GROUP_ID))


# -- not an operator


async def test_a_member_asking_for_a_card_is_refused_and_learns_nothing(bot: BotHarness) -> None:
    for text in ("/member @alice", "/member @nobody", "/member 101", "/member"):
        await bot.feed(says_privately(EVE, text))
        await bot.feed(said(EVE, text))

    assert set(bot.session.texts_to(EVE["id"])) == {NOT_AN_OPERATOR}
    assert set(bot.session.texts_to(GROUP_ID)) == {NOT_AN_OPERATOR}
    assert len(bot.session.texts_to(EVE["id"])) == len(bot.session.texts_to(GROUP_ID)) == 4


async def test_a_member_pressing_a_copied_card_button_is_refused(bot: BotHarness) -> None:
    await bot.feed(presses(EVE, f"mbc1:{GROUP_ID}:{ALICE['id']}"))

    [refusal] = callback_answers(bot)
    assert refusal.params["text"] == NOT_AN_OPERATOR
    assert bot.session.texts_to(EVE["id"]) == []


async def test_an_admin_of_another_group_pressing_a_forged_button_is_refused(
    bot: BotHarness,
) -> None:
    await bot.feed(presses(DAVE, f"mbc1:{GROUP_ID}:{ALICE['id']}"))

    [refusal] = callback_answers(bot)
    assert refusal.params["text"] == NOT_AN_OPERATOR
    assert bot.session.texts_to(DAVE["id"]) == []
