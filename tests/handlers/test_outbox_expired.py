"""/outbox: messages dropped because their deadline passed are shown as such."""

from __future__ import annotations

from datetime import timedelta

from hearth.bot.notifier import message
from tests.conftest import BotHarness
from tests.handlers.common import GROUP_ID, NOW, OPERATOR, bot_serves_group, says_privately


async def test_an_operator_sees_how_many_messages_were_too_late_to_send(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    await bot.hearth.delivery.stop()
    async with bot.uow() as uow:
        late = message(
            "late",
            101,
            "hi",
            kind="nudge",
            community_id=GROUP_ID,
            not_after=NOW - timedelta(days=1),
        )
        await uow.outbox.add(late, NOW)
        [due] = await uow.outbox.due(NOW, limit=10)
        assert not await uow.outbox.claim(due.id, NOW)  # never sent after its deadline
        assert await uow.outbox.expire(due.id, NOW)
        await uow.commit()

    await bot.feed(says_privately(OPERATOR, "/outbox"))

    (report,) = bot.session.texts_to(OPERATOR["id"])
    assert "Too late to send, dropped unsent: 1" in report
    assert "Waiting to be sent: 0" in report
