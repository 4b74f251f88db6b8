"""/outbox: operators see what the bot queued, sent and could not deliver; others see nothing."""

from __future__ import annotations

from hearth.bot.notifier import message
from hearth.domain.delivery import OutboxStatus
from tests.conftest import BotHarness
from tests.handlers.common import (
    ALICE,
    GROUP_ID,
    NOW,
    OPERATOR,
    bot_serves_group,
    said,
    says_privately,
)


async def queue_three(bot: BotHarness) -> None:
    """One reminder sent, one refused by Telegram, one still waiting until tomorrow."""
    async with bot.uow() as uow:
        for key in ("a", "b", "c"):
            await uow.outbox.add(
                message(key, 100 + len(key), "hi", kind="reminder", community_id=GROUP_ID), NOW
            )
        due = await uow.outbox.due(NOW, limit=10)
        first, second = due[0].id, due[1].id
        await uow.outbox.claim(first, NOW)
        await uow.outbox.sent(first, NOW, 55)
        await uow.outbox.claim(second, NOW)
        await uow.outbox.give_up(second, OutboxStatus.FAILED, "Bad Request: chat not found")
        await uow.commit()


async def test_an_operator_sees_queued_sent_and_failed_counts_with_the_reason(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot.hearth.delivery.stop()  # nothing is sent while the figures are read
    await queue_three(bot)

    await bot.feed(says_privately(OPERATOR, "/outbox"))

    (report,) = bot.session.texts_to(OPERATOR["id"])
    assert "Outbox of Pudong Owners" in report
    assert "Waiting to be sent: 1" in report
    assert "Sent: 1" in report
    assert "Failed: 1" in report
    assert "reminder: Bad Request: chat not found × 1" in report


async def test_a_member_asking_for_the_outbox_is_refused_and_learns_nothing(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot.hearth.delivery.stop()
    await queue_three(bot)

    await bot.feed(said(ALICE, "/outbox"))

    answers = bot.session.texts_to(GROUP_ID)
    assert answers == ["This command is for the community's operators."]
