"""The rewards store through the real dispatcher: browse, confirm, codes, operators."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from hearth.domain.points import EntryKind, PointsRules
from hearth.handlers.rewards_callbacks import RedeemConfirm
from hearth.services import points
from hearth.simulate import updates
from hearth.storage.rewards import RedemptionRow, RewardRow
from tests.conftest import BotHarness, make_harness
from tests.handlers.common import (
    ALICE,
    BORIS,
    GROUP_ID,
    NOW,
    OPERATOR,
    bot_serves_group,
    callback_answers,
    presses,
    rows,
    said,
    says_privately,
)


@pytest.fixture
async def bot(sqlite_url: str, clock: Any) -> AsyncIterator[BotHarness]:
    harness = await make_harness(sqlite_url, clock, operator_ids="7", welcome_batch_seconds=0)
    await bot_serves_group(harness)
    yield harness
    await harness.hearth.on_shutdown()


async def give(bot: BotHarness, person: dict[str, Any], amount: int) -> None:
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


def last_text(bot: BotHarness, chat_id: int) -> str:
    calls = [
        c
        for c in bot.session.calls
        if c.method in ("sendMessage", "editMessageText") and c.chat_id == chat_id
    ]
    return calls[-1].text


async def test_member_browses_confirms_and_gets_a_code_once(bot: BotHarness) -> None:
    await give(bot, ALICE, 100)
    await bot.feed(says_privately(OPERATOR, "/reward_new 30 10 Club <mug> limit=1"))
    assert "Added reward #1 <b>Club &lt;mug&gt;</b>" in bot.session.texts_to(OPERATOR["id"])[-1]
    bot.session.clear()
    monkey_download(bot, b"code\nMUG-1\nMUG-1\nbad code\n")
    await bot.feed(
        updates.message(
            updates.private(OPERATOR),
            OPERATOR,
            None,
            NOW,
            caption="/codes 1",
            caption_entities=[{"type": "bot_command", "offset": 0, "length": 6}],
            document={
                "file_id": "f",
                "file_unique_id": "u",
                "file_name": "codes.csv",
                "file_size": 30,
            },
        )
    )
    assert (
        "codes added 1, duplicates skipped 1, lines refused 1"
        in bot.session.texts_to(OPERATOR["id"])[-1]
    )

    bot.session.clear()
    await bot.feed(says_privately(ALICE, "/rewards"))
    [shelf] = bot.session.messages_to(ALICE["id"])
    assert "Your points: 100." in shelf.text
    [pick] = shelf.button_data()
    assert pick == "rw1p:1"
    await bot.feed(presses(ALICE, pick))
    confirm_call = bot.session.messages_to(ALICE["id"])[-1]
    redeem_data, _keep_data = confirm_call.button_data()
    assert len(redeem_data) <= 64
    await bot.feed(presses(ALICE, redeem_data))
    assert "<code>MUG-1</code>" in last_text(bot, ALICE["id"])
    await bot.feed(presses(ALICE, redeem_data))
    assert "You already redeemed this." in last_text(bot, ALICE["id"])
    assert len(await rows(bot, RedemptionRow)) == 1
    # a new confirmation is refused by the limit
    await bot.feed(presses(ALICE, pick))
    assert "limit" in callback_answers(bot)[-1].params["text"]

    # operator lists and cancels
    bot.session.clear()
    await bot.feed(says_privately(OPERATOR, "/redemptions"))
    [listing] = bot.session.messages_to(OPERATOR["id"])
    assert listing.button_data() == ["rw1s:1:f", "rw1s:1:c"]
    await bot.feed(presses(OPERATOR, "rw1s:1:c"))
    assert "30 points refunded" in callback_answers(bot)[-1].params["text"]
    assert "Nothing pending" in last_text(bot, OPERATOR["id"])
    async with bot.uow() as uow:
        assert await uow.points.balance(GROUP_ID, ALICE["id"]) == 100
    await bot.feed(presses(OPERATOR, "rw1s:1:f"))
    assert "cancelled already" in callback_answers(bot)[-1].params["text"]


def monkey_download(bot: BotHarness, content: bytes) -> None:
    async def download(file: Any, destination: Any = None, **_: Any) -> Any:
        return io.BytesIO(content)

    bot.hearth.bot.download = download  # type: ignore[method-assign]


async def test_forged_buttons_archived_rewards_and_short_balances_are_refused(
    bot: BotHarness,
) -> None:
    await give(bot, ALICE, 20)
    await bot.feed(says_privately(OPERATOR, "/reward_new 30 10 Mug"))
    await bot.feed(says_privately(OPERATOR, "/reward_new 10 unlimited Sticker"))
    bot.session.clear()
    # forged confirmation: good shape, bad signature
    forged = RedeemConfirm(reward_id=2, nonce="AAAAAAAA", signature="BBBBBBBBBBBB").pack()
    await bot.feed(presses(ALICE, forged))
    assert "no longer valid" in callback_answers(bot)[-1].params["text"]
    await bot.feed(presses(ALICE, "rw1c:2:xx"))  # malformed → fallback
    # not enough
    await bot.feed(presses(ALICE, "rw1p:1"))
    assert "costs 30 points and you have 20" in callback_answers(bot)[-1].params["text"]
    # confirmation then archived
    await bot.feed(presses(ALICE, "rw1p:2"))
    redeem_data, _ = bot.session.messages_to(ALICE["id"])[-1].button_data()
    # Boris cannot use Alice's button
    await bot.feed(presses(BORIS, redeem_data))
    assert "这个按钮已失效" in callback_answers(bot)[-1].params["text"]
    await bot.feed(says_privately(OPERATOR, "/reward_archive 2"))
    await bot.feed(says_privately(OPERATOR, "/reward_archive 2"))
    await bot.feed(presses(ALICE, redeem_data))
    assert "no longer available" in last_text(bot, ALICE["id"])
    async with bot.uow() as uow:
        assert await uow.points.balance(GROUP_ID, ALICE["id"]) == 20
        assert await uow.points.ledger_sum(GROUP_ID, ALICE["id"]) == 20
    assert await rows(bot, RedemptionRow) == []


async def test_operators_mistakes_and_non_operators_get_clear_answers(bot: BotHarness) -> None:
    await give(bot, ALICE, 20)
    bot.session.clear()
    await bot.feed(said(ALICE, "/rewards"))
    assert "in private" in bot.session.texts_to(GROUP_ID)[-1]
    await bot.feed(says_privately(ALICE, "/reward_new 1 1 x"))
    assert "operators" in bot.session.texts_to(ALICE["id"])[-1]
    await bot.feed(says_privately(OPERATOR, "/reward_new 1 1"))
    await bot.feed(says_privately(OPERATOR, "/reward_new 1 1 Mug tier=diamond"))
    await bot.feed(says_privately(OPERATOR, "/reward_archive abc"))
    await bot.feed(says_privately(OPERATOR, "/reward_archive 99"))
    await bot.feed(says_privately(OPERATOR, "/codes 1"))
    await bot.feed(says_privately(OPERATOR, "/redemptions"))
    answers = bot.session.texts_to(OPERATOR["id"])[-6:]
    assert answers[0].startswith("Usage: /reward_new COST STOCK TITLE")  # no title
    assert answers[1].startswith("tier= must be one of silver, gold or platinum.")
    assert answers[2] == "Usage: /reward_archive REWARD_NUMBER"
    assert answers[3] == "There is no reward #99 in your communities."
    assert answers[4].startswith("Send the voucher codes as a CSV or text file")
    assert answers[5] == "Nothing pending: every redemption is settled."
    # a started member in group gets it privately
    await bot.feed(says_privately(ALICE, "/start"))
    bot.session.clear()
    await bot.feed(said(ALICE, "/rewards"))
    assert bot.session.messages_to(ALICE["id"])
    assert not bot.session.texts_to(GROUP_ID)


async def test_members_and_operators_of_several_communities_pick_one(bot: BotHarness) -> None:
    from tests.handlers.common import OTHER_GROUP, OTHER_GROUP_ID

    await bot_serves_group(bot, chat=OTHER_GROUP)
    await give(bot, ALICE, 50)
    await bot.feed(updates.message(OTHER_GROUP, ALICE, "hi there", NOW))
    await bot.flush()
    bot.session.clear()
    await bot.feed(says_privately(OPERATOR, "/reward_new 30 10 Mug"))
    picker = bot.session.messages_to(OPERATOR["id"])[-1]
    second = next(d for d in picker.button_data() if str(OTHER_GROUP_ID) in d)
    first = next(d for d in picker.button_data() if d != second)
    await bot.feed(presses(OPERATOR, second))
    assert "Jinqiao Riders" in last_text(bot, OPERATOR["id"])
    await bot.feed(presses(OPERATOR, first))  # stale: already used
    assert "no longer valid" in callback_answers(bot)[-1].params["text"]
    async with bot.uow() as uow:
        [reward] = list(await uow.session.scalars(select(RewardRow)))
        assert reward.community_id == OTHER_GROUP_ID
    await bot.feed(says_privately(ALICE, "/rewards"))
    bot.session.messages_to(ALICE["id"])[-1]
    await bot.feed(presses(ALICE, f"cc1:rewards:{OTHER_GROUP_ID}"))
    shelf = bot.session.messages_to(ALICE["id"])[-1]
    assert shelf.button_data() == []  # 1 point from the message in the other group
    assert "29 more to go" in shelf.text
    await bot.feed(presses(ALICE, "cc1:rewards:-1009999"))
    assert "no longer valid" in callback_answers(bot)[-1].params["text"]
    await bot.feed(presses(ALICE, "rw1k:1"))
