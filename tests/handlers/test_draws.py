"""Lucky draws through the real dispatcher: create, enter, cancel, close, verify."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hearth.domain.draws import draw_winners
from hearth.domain.events import EventDraft
from hearth.domain.points import EntryKind, PointsRules
from hearth.scheduler.jobs import close_draws
from hearth.services import points
from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.draws import DrawEntryRow, DrawRow
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
    balance,
    bot_serves_group,
    callback_answers,
    delivered,
    members_of,
    presses,
    rows,
    said,
    says_privately,
    starts_the_bot,
)

CLOSES = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # the group's clock is UTC
PAID = "/draw_new 2 50 2026-03-10 20:00 Two track-day tickets"


@pytest.fixture
async def bot(sqlite_url: str, clock: Any) -> AsyncIterator[BotHarness]:
    harness = await make_harness(sqlite_url, clock, operator_ids="7", welcome_batch_seconds=0)
    await bot_serves_group(harness)
    yield harness
    await harness.hearth.on_shutdown()


async def give(bot: BotHarness, person: dict[str, Any], amount: int) -> None:
    """``person`` belongs to the group and holds exactly ``amount`` points."""
    await bot.feed(said(person, "hello everyone"))
    await bot.flush()
    async with bot.uow() as uow:
        amount -= await uow.points.balance(GROUP_ID, person["id"])  # the message earned some
        await points.credit(
            uow,
            community_id=GROUP_ID,
            member_id=person["id"],
            amount=amount,
            kind=EntryKind.GRANT,
            reason="t",
            key=f"t:{person['id']}",
            now=NOW,
            timezone="UTC",
            rules=PointsRules(),
        )
        await uow.commit()


def enters(person: dict[str, Any], draw_id: int = 1, at: datetime = NOW) -> updates.JsonDict:
    """``person`` presses Enter under the draw's announcement in the group."""
    return presses(person, f"dw1e:{draw_id}", at, chat=GROUP)


def last_alert(bot: BotHarness) -> str:
    return str(callback_answers(bot)[-1].params["text"])


async def close(bot: BotHarness, at: datetime = CLOSES) -> int:
    """The scheduler's job, run at ``at``; then the outbox is delivered."""
    bot.hearth.clock.set(at)  # type: ignore[attr-defined]
    closed = await close_draws(bot.hearth.uow_factory, bot.hearth.draw_notices, bot.hearth.clock)
    await delivered(bot)
    return closed


async def entries(bot: BotHarness) -> list[DrawEntryRow]:
    return sorted(await rows(bot, DrawEntryRow), key=lambda entry: entry.member_id)


async def test_an_operator_creates_a_draw_announced_in_the_group_with_an_enter_button(
    bot: BotHarness,
) -> None:
    await bot.feed(says_privately(OPERATOR, PAID + " tier=silver active=30"))
    assert "Lucky draw #1 for Two track-day tickets is open" in bot.session.texts_to(7)[-1]
    await delivered(bot)
    [announcement] = bot.session.messages_to(GROUP_ID)
    assert "<b>Lucky draw #1</b>: Two track-day tickets" in announcement.text
    assert "2 winners · 50 points to enter" in announcement.text
    assert "Closes 2026-03-10 20:00 (UTC)." in announcement.text
    assert (
        "Open to members who: are Silver members or above; "
        "took part in the group in the last 30 days."
    ) in announcement.text
    assert announcement.button_data() == ["dw1e:1"]
    [draw] = await rows(bot, DrawRow)
    assert (draw.winners, draw.cost, draw.min_tier, draw.active_days) == (2, 50, "silver", 30)
    assert draw.closes_at == CLOSES
    audit = [row for row in await rows(bot, tables.AuditLog) if row.action == "draw.create"]
    assert [row.actor_id for row in audit] == [7]


async def test_the_closing_time_is_read_on_the_communitys_clock(bot: BotHarness) -> None:
    async with bot.uow() as uow:
        await uow.communities.update(GROUP_ID, timezone="Asia/Shanghai")
        await uow.commit()
    await bot.feed(says_privately(OPERATOR, "/draw_new 1 free 2026-03-10 20:00 A mug"))
    [draw] = await rows(bot, DrawRow)
    assert draw.closes_at == datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert draw.cost == 0


async def test_a_bad_draw_command_is_explained_and_stores_nothing(bot: BotHarness) -> None:
    await bot.feed(says_privately(OPERATOR, "/draw_new 2 50 2026-03-01 20:00 Too late"))
    assert "The closing time has already passed." in bot.session.texts_to(7)[-1]
    await bot.feed(says_privately(OPERATOR, "/draw_new 2 50 2026-03-10 20:00 Prize event=99"))
    assert (
        "event= must be the number of one of this community's events"
        in (bot.session.texts_to(7)[-1])
    )
    await bot.feed(says_privately(OPERATOR, "/draw_new none 50 2026-03-10 20:00 Prize"))
    assert "The number of winners must be a whole number" in bot.session.texts_to(7)[-1]
    assert await rows(bot, DrawRow) == []


async def test_a_non_operator_cannot_create_or_cancel_a_draw(bot: BotHarness) -> None:
    await bot.feed(said(ALICE, PAID))
    await bot.feed(says_privately(ALICE, PAID))
    await bot.feed(says_privately(ALICE, "/draw_cancel 1"))
    refusals = [call.text for call in bot.session.of("sendMessage")]
    assert refusals.count("This command is for the community's operators.") == 3
    assert await rows(bot, DrawRow) == []
    await delivered(bot)
    assert not any("Lucky draw" in text for text in bot.session.texts_to(GROUP_ID))


async def test_an_operator_can_create_a_draw_in_the_group_itself(bot: BotHarness) -> None:
    await bot.feed(said(ADMIN, "/draw_new 1 free 2026-03-10 20:00 A club mug"))
    assert (
        "Lucky draw #1 for A club mug is open in Pudong Owners."
        in (bot.session.texts_to(GROUP_ID)[-1])
    )
    [draw] = await rows(bot, DrawRow)
    assert draw.community_id == GROUP_ID


async def test_entering_twice_pays_once(bot: BotHarness) -> None:
    await give(bot, ALICE, 120)
    await bot.feed(says_privately(OPERATOR, PAID))
    await bot.feed(enters(ALICE))
    assert last_alert(bot) == (
        "You are in the draw for Two track-day tickets. 50 points paid, 70 left. Good luck!"
    )
    await bot.feed(enters(ALICE))
    assert last_alert(bot) == "You are already in this draw: one entry each. Good luck!"
    assert await balance(bot, ALICE) == 70
    assert [(entry.member_id, entry.cost) for entry in await entries(bot)] == [(ALICE["id"], 50)]
    spent = [entry for entry in await rows(bot, tables.PointsEntry) if entry.kind == "spend"]
    assert [(entry.amount, entry.idempotency_key) for entry in spent] == [(-50, "draw-entry:1:101")]
    [draw] = await rows(bot, DrawRow)
    assert draw.entries == 1


async def test_entering_without_enough_points_is_refused_and_takes_nothing(
    bot: BotHarness,
) -> None:
    await give(bot, BORIS, 30)
    await bot.feed(says_privately(OPERATOR, PAID))
    await bot.feed(enters(BORIS))
    # (Boris's Telegram speaks Chinese: the refusal comes in his language)
    assert last_alert(bot) == "参与需要 50 积分，你目前有 30。未扣除任何积分。"
    assert await balance(bot, BORIS) == 30
    assert await entries(bot) == []
    [draw] = await rows(bot, DrawRow)
    assert draw.entries == 0


async def test_ineligible_members_are_refused(bot: BotHarness) -> None:
    await give(bot, ALICE, 100)
    await give(bot, BORIS, 100)
    starts = NOW - timedelta(days=3)
    async with bot.uow() as uow:
        event = await uow.events.add(
            GROUP_ID,
            EventDraft(
                title="Track day",
                description="Laps",
                place="Tianma",
                starts_at=starts,
                ends_at=starts + timedelta(hours=4),
                capacity=None,
                registration_deadline=starts,
                points=0,
            ),
            code="TRACK1",
            actor_id=None,
            now=starts,
        )
        assert event is not None
        await uow.events.attend(event.id, ALICE["id"], starts)
        await uow.commit()
    await bot.feed(
        says_privately(OPERATOR, f"/draw_new 1 free 2026-03-10 20:00 Mug event={event.id}")
    )
    await bot.feed(says_privately(OPERATOR, "/draw_new 1 free 2026-03-10 20:00 Cap tier=gold"))
    await delivered(bot)
    assert "attended the event Track day" in bot.session.texts_to(GROUP_ID)[0]

    await bot.feed(enters(BORIS, 1))
    assert last_alert(bot) == "这个抽奖仅限参加过指定活动的成员。"  # Boris reads Chinese
    await bot.feed(enters(ALICE, 1))
    assert last_alert(bot).startswith("You are in the draw for Mug")
    await bot.feed(enters(ALICE, 2))
    assert last_alert(bot) == "This draw is for Gold members and above."
    assert [(entry.draw_id, entry.member_id) for entry in await entries(bot)] == [(1, ALICE["id"])]


async def test_only_members_active_lately_may_enter_an_activity_draw(bot: BotHarness) -> None:
    await bot.feed(said(CAROL, "hello", NOW - timedelta(days=20)))
    await bot.feed(said(ALICE, "hello", NOW - timedelta(days=2)))
    await bot.flush()
    await bot.feed(says_privately(OPERATOR, "/draw_new 1 free 2026-03-10 20:00 Mug active=7"))
    await bot.feed(enters(CAROL))
    assert last_alert(bot) == (
        "This draw is for members who took part in the group in the last 7 days."
    )
    await bot.feed(enters(ALICE))
    assert last_alert(bot).startswith("You are in the draw")


async def test_a_cancelled_draw_refunds_every_entry_once_even_when_cancel_is_replayed(
    bot: BotHarness,
) -> None:
    await give(bot, ALICE, 100)
    await give(bot, CAROL, 60)
    await starts_the_bot(bot, ALICE)
    await bot.feed(says_privately(OPERATOR, PAID))
    await bot.feed(enters(ALICE))
    await bot.feed(enters(CAROL))
    assert (await balance(bot, ALICE), await balance(bot, CAROL)) == (50, 10)
    await delivered(bot)
    bot.session.clear()

    cancel = says_privately(OPERATOR, "/draw_cancel 1")
    await bot.feed(cancel)
    assert (
        "Draw #1 is cancelled: 100 points refunded over 2 entries." in (bot.session.texts_to(7)[-1])
    )
    await bot.feed(cancel)  # Telegram delivers the same update again: changes nothing
    await bot.feed(says_privately(OPERATOR, "/draw_cancel 1"))  # the operator sends it again
    assert bot.session.texts_to(7)[-1] == "Draw #1 was cancelled already."
    await delivered(bot)

    assert (await balance(bot, ALICE), await balance(bot, CAROL)) == (100, 60)
    refunds = [entry for entry in await rows(bot, tables.PointsEntry) if entry.reason == "refund"]
    assert sorted((entry.member_id, entry.amount) for entry in refunds) == [
        (ALICE["id"], 50),
        (CAROL["id"], 50),
    ]
    assert [text for text in bot.session.texts_to(ALICE["id"]) if "cancelled" in text] == [
        "The lucky draw for <b>Two track-day tickets</b> in Pudong Owners was cancelled. "
        "Your 50 entry points are back."
    ]
    assert bot.session.texts_to(GROUP_ID) == [
        "❌ The lucky draw #1 (Two track-day tickets) is cancelled. "
        "Every entry's points are refunded."
    ]
    await bot.feed(enters(BORIS))
    assert last_alert(bot) == "这个抽奖已取消。"  # Boris reads Chinese
    audit = [row for row in await rows(bot, tables.AuditLog) if row.action == "draw.cancel"]
    assert len(audit) == 1
    # nothing is left to draw
    assert await close(bot) == 0


async def test_closing_draws_exactly_the_number_of_winners_and_tells_them(
    bot: BotHarness,
) -> None:
    people = (ALICE, BORIS, CAROL)
    for person in people:
        await give(bot, person, 100)
    await starts_the_bot(bot, *people)
    await bot.feed(says_privately(OPERATOR, PAID))
    for person in people:
        await bot.feed(enters(person))
    await delivered(bot)
    bot.session.clear()

    assert await close(bot, CLOSES - timedelta(minutes=1)) == 0  # not yet
    bot.hearth.clock.set(CLOSES)  # type: ignore[attr-defined]
    await bot.feed(enters(DAVE, at=CLOSES))
    assert last_alert(bot) == "This draw is closed."
    assert await close(bot) == 1

    ranked = [entry for entry in await entries(bot) if entry.rank is not None]
    assert sorted(entry.rank for entry in ranked) == [1, 2]
    winners = [entry.member_id for entry in sorted(ranked, key=lambda entry: entry.rank or 0)]
    [result] = bot.session.texts_to(GROUP_ID)
    names = {ALICE["id"]: "Alice", BORIS["id"]: "Boris", CAROL["id"]: "Carol"}
    assert "The winners are " in result
    for winner in winners:
        assert f'<a href="tg://user?id={winner}">{names[winner]}</a>' in result
    [draw] = await rows(bot, DrawRow)
    assert draw.status == "closed"
    assert f"3 entered; drawn with the seed <code>{draw.seed}</code>." in result
    for person in people:
        told = [
            text
            for text in bot.session.texts_to(person["id"])
            if "You won" in text or "Two track-day tickets" in text  # (Boris reads Chinese)
        ]
        assert len(told) == (1 if person["id"] in winners else 0)


async def test_with_fewer_entrants_than_prizes_everyone_wins(bot: BotHarness) -> None:
    await members_of(bot, ALICE, BORIS)
    await bot.feed(says_privately(OPERATOR, "/draw_new 5 free 2026-03-10 20:00 Stickers"))
    await bot.feed(enters(ALICE))
    assert last_alert(bot) == "You are in the draw for Stickers. Good luck!"  # no points needed
    await bot.feed(enters(BORIS))
    assert await close(bot) == 1
    assert sorted(entry.rank or 0 for entry in await entries(bot)) == [1, 2]


async def test_nobody_entered_means_no_winner(bot: BotHarness) -> None:
    await bot.feed(says_privately(OPERATOR, "/draw_new 1 free 2026-03-10 20:00 Stickers"))
    await delivered(bot)
    bot.session.clear()
    assert await close(bot) == 1
    [result] = bot.session.texts_to(GROUP_ID)
    assert "Nobody entered, so there is no winner this time." in result


async def test_the_winners_drawn_again_from_the_recorded_seed_are_the_same(
    bot: BotHarness,
) -> None:
    people = (ALICE, BORIS, CAROL, DAVE)
    await members_of(bot, *people)
    await bot.feed(says_privately(OPERATOR, "/draw_new 2 free 2026-03-10 20:00 Stickers"))
    for person in reversed(people):  # the order of entry does not matter
        await bot.feed(enters(person))
    await close(bot)

    [draw] = await rows(bot, DrawRow)
    stored = await entries(bot)
    recorded = [e.member_id for e in sorted(stored, key=lambda e: e.rank or 0) if e.rank]
    assert draw.seed is not None
    assert draw_winners([e.member_id for e in stored], 2, draw.seed) == recorded
    assert draw_winners([e.member_id for e in reversed(stored)], 2, draw.seed) == recorded

    bot.session.clear()
    await bot.feed(says_privately(ALICE, "/draw 1"))
    [shown] = bot.session.texts_to(ALICE["id"])
    assert f"Seed: <code>{draw.seed}</code>" in shown
    assert "✅ Drawn again from the seed just now: the same winners." in shown
    audit = [row for row in await rows(bot, tables.AuditLog) if row.action == "draw.close"]
    assert [(row.details["seed"], row.details["winners"]) for row in audit] == [
        (str(draw.seed), recorded)
    ]


async def test_running_the_closing_job_twice_announces_once(bot: BotHarness) -> None:
    await members_of(bot, ALICE)
    await starts_the_bot(bot, ALICE)
    await bot.feed(says_privately(OPERATOR, "/draw_new 1 free 2026-03-10 20:00 Stickers"))
    await bot.feed(enters(ALICE))
    await delivered(bot)
    bot.session.clear()

    assert await close(bot) == 1
    assert await close(bot, CLOSES + timedelta(minutes=1)) == 0
    assert len(bot.session.texts_to(GROUP_ID)) == 1
    assert len([text for text in bot.session.texts_to(ALICE["id"]) if "You won" in text]) == 1
    audit = [row for row in await rows(bot, tables.AuditLog) if row.action == "draw.close"]
    assert len(audit) == 1
    # and a closed draw can no longer be cancelled
    await bot.feed(says_privately(OPERATOR, "/draw_cancel 1"))
    assert (
        "Draw #1 is drawn already; it can no longer be cancelled." in (bot.session.texts_to(7)[-1])
    )


async def test_members_list_the_open_draws_and_enter_from_the_list(bot: BotHarness) -> None:
    await give(bot, ALICE, 100)
    await starts_the_bot(bot, ALICE)
    await bot.feed(says_privately(OPERATOR, PAID))
    await bot.feed(says_privately(OPERATOR, "/draw_new 1 free 2026-03-12 20:00 A club mug"))
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/draws"))
    [listing] = bot.session.messages_to(ALICE["id"])
    assert "#1 <b>Two track-day tickets</b>" in listing.text
    assert "#2 <b>A club mug</b>" in listing.text
    assert listing.button_data() == ["dw1e:1", "dw1e:2"]
    await bot.feed(presses(ALICE, "dw1e:2"))
    bot.session.clear()
    await bot.feed(says_privately(ALICE, "/draws"))
    [listing] = bot.session.messages_to(ALICE["id"])
    assert "#2 <b>A club mug</b> · ✅ you are in" in listing.text
    assert listing.button_data() == ["dw1e:1"]


async def test_someone_outside_the_community_sees_no_draw(bot: BotHarness) -> None:
    await bot.feed(says_privately(OPERATOR, PAID))
    await bot.feed(says_privately(DAVE, "/draw 1"))
    assert bot.session.texts_to(DAVE["id"])[-1] == "There is no draw #1 in your communities."
    await bot.feed(presses(DAVE, "dw1e:1"))
    assert last_alert(bot) == "This draw belongs to a community you are not a member of."
    assert await entries(bot) == []
