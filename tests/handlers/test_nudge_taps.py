"""The buttons on a nudge, pressed by the member it was sent to — and by someone else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from typing import Any

import pytest

from hearth.domain.events import EventDraft
from hearth.domain.nudges import (
    Decision,
    NudgeFacts,
    NudgeKind,
    NudgeMessage,
    NudgePreference,
    NudgeSettings,
    NudgeStatus,
    QuietHours,
    UpcomingEvent,
)
from hearth.domain.points import EntryKind, NewEntry
from hearth.handlers import nudges_texts, quizzes_texts, texts
from hearth.handlers.callbacks import NudgeAction, NudgeTap
from hearth.scheduler import jobs
from hearth.services import points
from hearth.storage import tables
from hearth.storage.nudges import NudgeRow
from hearth.storage.outbox import OutboxRow
from hearth.storage.quizzes import QuestionRow, QuizAnswerRow
from tests.conftest import BotHarness, make_harness
from tests.handlers.common import (
    ALICE,
    BORIS,
    GROUP_ID,
    NOW,
    at,
    balance,
    bot_serves_group,
    buttons,
    callback_answers,
    delivered,
    leaves,
    ledger,
    members_of,
    presses,
    rows,
    starts_the_bot,
)
from tests.telegram import Call

LATER = NOW + timedelta(days=20)  # Alice last took part at NOW: she has drifted away since
EPISODE = NOW.date()
NO_FACTS = NudgeFacts()


@pytest.fixture
async def bot(sqlite_url: str, clock: Any) -> AsyncIterator[BotHarness]:
    harness = await make_harness(sqlite_url, clock, operator_ids="7", welcome_batch_seconds=0)
    await bot_serves_group(harness)
    await members_of(harness, ALICE, BORIS)
    await starts_the_bot(harness, ALICE, BORIS)
    harness.hearth.clock.set(LATER)  # type: ignore[attr-defined]
    harness.session.clear()
    yield harness
    await harness.hearth.on_shutdown()


async def nudged(
    bot: BotHarness,
    person: dict[str, Any],
    kind: NudgeKind = NudgeKind.LIGHT,
    *,
    facts: NudgeFacts = NO_FACTS,
    bonus: int = 30,
    event_id: int | None = None,
) -> Call:
    """A nudge of ``kind`` decided, sent and delivered to ``person``: the message they got."""
    member_id = int(person["id"])
    template = f"{kind.value}:0"
    offer = bonus if kind is NudgeKind.COMEBACK and bonus > 0 else None  # as the plan stores it
    async with bot.uow() as uow:
        decision = Decision(
            member_id, EPISODE, NudgeStatus.PLANNED, 1, kind, LATER, offer_points=offer
        )
        await uow.nudges.record(GROUP_ID, LATER.date(), [decision], LATER)
        [record] = await uow.nudges.history(GROUP_ID, member_id)
        assert await uow.nudges.mark_sent(
            record.id, kind=kind, template=template, event_id=event_id, now=LATER
        )
        member = await uow.members.get(member_id)
        community = await uow.communities.get(GROUP_ID)
        assert member is not None
        assert community is not None
        message = NudgeMessage(record.id, kind, template, None, 20, facts, bonus)
        assert await bot.hearth.nudges.nudge(uow, member, community, message)
        await uow.commit()
    await delivered(bot)
    nudge = bot.session.messages_to(member_id)[-1]
    bot.session.clear()
    return nudge


def english(bot: BotHarness, text: Callable[[], str], locale: str = "en") -> str:
    """A text as Hearth renders it in English (or in ``locale``)."""
    i18n = bot.hearth.i18n
    with i18n.context(), i18n.use_locale(locale):
        return text()


def chinese(bot: BotHarness, text: Callable[[], str]) -> str:
    """A text as Boris, whose Telegram speaks Simplified Chinese, reads it."""
    return english(bot, text, "zh_Hans")


def button(call: Call, label: str) -> str:
    [data] = [item["callback_data"] for item in buttons(call) if item["text"] == label]
    return str(data)


async def the_nudge(bot: BotHarness) -> NudgeRow:
    [row] = await rows(bot, NudgeRow)
    return row


async def preference(bot: BotHarness, person: dict[str, Any]) -> NudgePreference:
    async with bot.uow() as uow:
        return await uow.nudges.preference(int(person["id"]))


def alert(bot: BotHarness) -> str:
    [answer] = callback_answers(bot)
    assert answer.params.get("show_alert")
    return str(answer.params["text"])


async def test_a_nudge_comes_in_private_by_name_with_one_invitation_and_a_way_to_stop(
    bot: BotHarness,
) -> None:
    nudge = await nudged(bot, ALICE)

    assert nudge.chat_id == ALICE["id"]
    assert "Alice" in nudge.text
    assert "Pudong Owners" in nudge.text
    assert nudge.text.endswith(f"<i>{english(bot, nudges_texts.stop_hint)}</i>")
    assert [item["text"] for item in buttons(nudge)] == ["Check in now", "Stop these messages"]
    [queued] = [row for row in await rows(bot, OutboxRow) if row.kind == "nudge"]
    assert queued.dedupe_key == f"nudge:{(await the_nudge(bot)).id}"


async def test_check_in_now_on_a_nudge_checks_the_member_in_and_records_the_click(
    bot: BotHarness,
) -> None:
    nudge = await nudged(bot, ALICE, NudgeKind.STREAK, facts=NudgeFacts(best_streak=9))

    await bot.feed(presses(ALICE, button(nudge, "Check in now")))

    [reply] = bot.session.texts_to(ALICE["id"])
    assert reply.startswith("✅ Checked in! Streak: 1 days (best: 1).")
    assert (await the_nudge(bot)).clicked_at == LATER


async def test_the_first_tap_is_the_click_a_second_one_does_not_move_it(
    bot: BotHarness,
) -> None:
    nudge = await nudged(bot, ALICE)
    await bot.feed(presses(ALICE, button(nudge, "Check in now")))

    await at(bot, LATER + timedelta(hours=1), presses(ALICE, button(nudge, "Check in now")))

    assert (await the_nudge(bot)).clicked_at == LATER
    assert bot.session.texts_to(ALICE["id"])[-1].startswith("You have already checked in")


async def test_stop_these_messages_turns_nudges_off_in_one_tap_and_undo_turns_them_on(
    bot: BotHarness,
) -> None:
    nudge = await nudged(bot, ALICE)

    await bot.feed(presses(ALICE, button(nudge, "Stop these messages")))

    [confirmation] = bot.session.messages_to(ALICE["id"])
    assert confirmation.text == english(bot, nudges_texts.stopped)
    assert [item["text"] for item in buttons(confirmation)] == ["Undo"]
    assert not (await preference(bot, ALICE)).enabled
    stored = await the_nudge(bot)
    assert stored.opted_out_at == LATER
    assert stored.clicked_at is None  # stopping is not taking up the invitation
    bot.session.clear()

    await bot.feed(presses(ALICE, button(confirmation, "Undo")))

    assert (await preference(bot, ALICE)).enabled
    [edited] = bot.session.of("editMessageText")
    assert edited.params["text"] == english(bot, nudges_texts.undone)
    assert buttons(edited) == []
    assert (await the_nudge(bot)).opted_out_at is None  # the report no longer counts it


async def test_stopping_keeps_the_members_quiet_hours(bot: BotHarness) -> None:
    async with bot.uow() as uow:
        await uow.nudges.set_preference(
            int(ALICE["id"]), NudgePreference(True, QuietHours(22, 8)), NOW
        )
        await uow.commit()
    nudge = await nudged(bot, ALICE)

    await bot.feed(presses(ALICE, button(nudge, "Stop these messages")))

    assert await preference(bot, ALICE) == NudgePreference(False, QuietHours(22, 8))


@pytest.mark.parametrize("action", list(NudgeAction))
async def test_a_tap_on_someone_elses_nudge_is_refused_and_changes_nothing(
    bot: BotHarness, action: NudgeAction
) -> None:
    await nudged(bot, ALICE, NudgeKind.COMEBACK)
    alices = (await the_nudge(bot)).id
    forged = NudgeTap(nudge_id=alices, action=action).pack()

    await bot.feed(presses(BORIS, forged))

    assert alert(bot) == chinese(bot, texts.stale_button)
    assert bot.session.of("sendMessage") == bot.session.of("sendPoll") == []
    stored = await the_nudge(bot)
    assert (stored.clicked_at, stored.opted_out_at) == (None, None)
    assert (await preference(bot, BORIS)).enabled
    assert await balance(bot, BORIS) == 0
    assert await ledger(bot, BORIS) == []


async def test_a_tap_naming_no_nudge_at_all_is_refused(bot: BotHarness) -> None:
    await bot.feed(presses(ALICE, NudgeTap(nudge_id=999, action=NudgeAction.STOP).pack()))

    assert alert(bot) == english(bot, texts.stale_button)
    assert (await preference(bot, ALICE)).enabled


async def test_claiming_the_comeback_bonus_credits_it_once_valid_for_seven_days(
    bot: BotHarness,
) -> None:
    nudge = await nudged(bot, ALICE, NudgeKind.COMEBACK, bonus=30)
    claim = button(nudge, "Claim 30 points")

    await bot.feed(presses(ALICE, claim))

    [reply] = bot.session.texts_to(ALICE["id"])
    valid_until = (LATER + timedelta(days=7)).date()
    assert reply == (
        "🎁 Welcome back! 30 points are yours in <b>Pudong Owners</b>, valid until "
        f"{valid_until.isoformat()}."
    )
    assert await balance(bot, ALICE) == 30
    [entry] = [row for row in await rows(bot, tables.PointsEntry) if row.reason == "comeback"]
    assert (entry.kind, entry.amount, entry.expires_at) == ("grant", 30, LATER + timedelta(days=7))
    assert (await the_nudge(bot)).clicked_at == LATER
    bot.session.clear()

    await at(bot, LATER + timedelta(hours=2), presses(ALICE, claim))

    assert alert(bot) == english(bot, nudges_texts.already_claimed)
    assert bot.session.of("sendMessage") == []
    assert await balance(bot, ALICE) == 30


async def test_a_claim_forged_onto_a_nudge_that_offered_nothing_credits_nothing(
    bot: BotHarness,
) -> None:
    await nudged(bot, ALICE, NudgeKind.LIGHT)
    forged = NudgeTap(nudge_id=(await the_nudge(bot)).id, action=NudgeAction.CLAIM).pack()

    await bot.feed(presses(ALICE, forged))

    assert alert(bot) == english(bot, texts.stale_button)
    assert await balance(bot, ALICE) == 0
    assert (await the_nudge(bot)).clicked_at is None


async def test_see_event_shows_the_nudges_event_with_its_rsvp_buttons(bot: BotHarness) -> None:
    starts = LATER + timedelta(days=5)
    draft = EventDraft(
        "Spring <drive>", "", "Lakeside", starts, starts + timedelta(hours=3), None, starts, 10
    )
    async with bot.uow() as uow:
        event = await uow.events.add(GROUP_ID, draft, code="ABC123", actor_id=None, now=NOW)
        assert event is not None
        await uow.commit()
    facts = NudgeFacts(event=UpcomingEvent(event.id, event.title, starts, None))
    nudge = await nudged(bot, ALICE, NudgeKind.EVENT, facts=facts, event_id=event.id)
    assert "<b>Spring &lt;drive&gt;</b>" in nudge.text

    await bot.feed(presses(ALICE, button(nudge, "See event")))

    [listing] = bot.session.messages_to(ALICE["id"])
    assert f"#{event.id} <b>Spring &lt;drive&gt;</b>" in listing.text
    assert [item["text"] for item in buttons(listing)] == [
        f"#{event.id} ✅ Going",
        f"#{event.id} 🤔 Maybe",
        f"#{event.id} ❌ Can't go",
    ]
    assert (await the_nudge(bot)).clicked_at == LATER


async def test_spend_my_points_shows_the_rewards_and_play_a_quiz_a_practice_question(
    bot: BotHarness,
) -> None:
    expiring = NudgeFacts(expiring_points=40, expiring_on=date(2026, 4, 1))
    nudge = await nudged(bot, ALICE, NudgeKind.EXPIRING, facts=expiring)

    await bot.feed(presses(ALICE, button(nudge, "Spend my points")))

    [shelf] = bot.session.texts_to(ALICE["id"])
    assert shelf.startswith("🎁 <b>Rewards in Pudong Owners</b>\nYour points: 0.")
    bot.session.clear()
    quiz_nudge = await nudged(bot, BORIS, NudgeKind.QUIZ)
    await bot.feed(presses(BORIS, button(quiz_nudge, chinese(bot, nudges_texts.button_quiz))))

    [answer] = bot.session.texts_to(BORIS["id"])
    assert answer == chinese(bot, lambda: quizzes_texts.no_questions(None))  # as /quiz


async def test_a_claim_credits_the_bonus_the_nudge_offered_even_after_the_bonus_changed(
    bot: BotHarness,
) -> None:
    nudge = await nudged(bot, ALICE, NudgeKind.COMEBACK, bonus=30)
    async with bot.uow() as uow:  # the operators raise the bonus after the nudge went out
        await uow.nudges.save_settings(GROUP_ID, NudgeSettings(comeback_points=50), LATER)
        await uow.commit()

    await at(bot, LATER + timedelta(days=6), presses(ALICE, button(nudge, "Claim 30 points")))

    [reply] = bot.session.texts_to(ALICE["id"])
    assert reply.startswith("🎁 Welcome back! 30 points are yours in <b>Pudong Owners</b>")
    assert await balance(bot, ALICE) == 30


async def test_a_comeback_offer_cannot_be_claimed_more_than_seven_days_after_it_was_sent(
    bot: BotHarness,
) -> None:
    nudge = await nudged(bot, ALICE, NudgeKind.COMEBACK, bonus=30)

    late = LATER + timedelta(days=7, minutes=1)
    await at(bot, late, presses(ALICE, button(nudge, "Claim 30 points")))

    assert alert(bot) == (
        "This welcome-back gift could be claimed for 7 days after I sent it, and that time is over."
    )
    assert bot.session.of("sendMessage") == []
    assert await balance(bot, ALICE) == 0
    assert (await the_nudge(bot)).clicked_at is None


async def test_a_member_who_left_the_community_cannot_claim_its_comeback_offer(
    bot: BotHarness,
) -> None:
    nudge = await nudged(bot, ALICE, NudgeKind.COMEBACK, bonus=30)
    await at(bot, LATER, leaves(ALICE, LATER))
    bot.session.clear()

    await bot.feed(presses(ALICE, button(nudge, "Claim 30 points")))

    assert alert(bot) == (
        "This welcome-back gift is for members of the community, and you have left it."
    )
    assert await balance(bot, ALICE) == 0
    assert await ledger(bot, ALICE) == []


# -- what the send job writes, from the facts as stored


async def sent_by_the_job(bot: BotHarness, person: dict[str, Any], kind: NudgeKind) -> Call:
    """A second-step nudge of ``kind`` planned for ``person`` now and sent by the send job,
    which reads the facts it mentions: the message they got."""
    member_id = int(person["id"])
    async with bot.uow() as uow:
        decision = Decision(member_id, EPISODE, NudgeStatus.PLANNED, 2, kind, LATER)
        await uow.nudges.record(GROUP_ID, LATER.date(), [decision], LATER)
        await uow.commit()
    hearth = bot.hearth
    assert await jobs.send_nudges(hearth.uow_factory, hearth.nudges, hearth.clock) == 1
    await delivered(bot)
    [nudge] = bot.session.messages_to(member_id)
    bot.session.clear()
    return nudge


async def test_an_expiring_points_nudge_names_what_expires_on_the_day_it_names(
    bot: BotHarness,
) -> None:
    async with bot.uow() as uow:
        entries = [
            NewEntry(
                community_id=GROUP_ID,
                member_id=int(ALICE["id"]),
                kind=EntryKind.GRANT,
                amount=amount,
                reason="gift",
                key=f"gift:{amount}",
                at=NOW,
                expires_at=LATER + timedelta(days=days),
            )
            for amount, days in ((20, 3), (100, 10))
        ]
        await points.credit_all(uow, entries)
        await uow.commit()

    nudge = await sent_by_the_job(bot, ALICE, NudgeKind.EXPIRING)

    first_day = (LATER + timedelta(days=3)).date().isoformat()
    assert nudge.text.startswith(
        f"Hi Alice! 20 of your points in <b>Pudong Owners</b> expire on {first_day}."
    )


async def alice_played(bot: BotHarness, bank: dict[str, int], answers: dict[str, int]) -> None:
    """The bank has ``bank[topic]`` questions per topic; Alice answered ``answers[topic]``
    of a topic's questions in rounds, all right (five right answers master a topic)."""
    async with bot.uow() as uow:
        for topic, count in bank.items():
            for index in range(count):
                uow.session.add(
                    QuestionRow(
                        community_id=GROUP_ID,
                        text=f"{topic} question {index}?",
                        options=["yes", "no"],
                        correct=0,
                        topic=topic,
                        fingerprint=f"{topic}:{index}",
                        created_at=NOW,
                    )
                )
        for topic, count in answers.items():
            for index in range(count):
                uow.session.add(
                    QuizAnswerRow(
                        poll_id=f"{topic}:{index}",
                        community_id=GROUP_ID,
                        member_id=int(ALICE["id"]),
                        question_id=1000 + index,
                        topic=topic,
                        option=0,
                        correct=True,
                        answered_at=NOW,
                    )
                )
        await uow.commit()


async def test_a_quiz_nudge_names_a_topic_practice_still_has_for_the_member(
    bot: BotHarness,
) -> None:
    await alice_played(bot, {"history": 3, "engines": 2}, {"history": 6, "engines": 2})

    nudge = await sent_by_the_job(bot, ALICE, NudgeKind.QUIZ)

    assert nudge.text.startswith(
        "Hi Alice! You have played <b>engines</b> questions in <b>Pudong Owners</b> before"
    )
    assert "history" not in nudge.text  # mastered: practice serves none of it

    await bot.feed(presses(ALICE, button(nudge, "Play a quiz")))

    [poll] = bot.session.polls_to(ALICE["id"])
    assert str(poll.params["question"]).startswith("engines question")


async def test_a_quiz_nudge_does_not_name_a_topic_the_member_has_mastered(
    bot: BotHarness,
) -> None:
    await alice_played(bot, {"history": 3}, {"history": 6})

    nudge = await sent_by_the_job(bot, ALICE, NudgeKind.QUIZ)

    assert "history" not in nudge.text
    assert [item["text"] for item in buttons(nudge)] == ["Check in now", "Stop these messages"]
